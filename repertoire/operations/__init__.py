"""The operations layer, by feature: what the HTML pages, the API and the command line all call.

Operations read, or change the session and flush; the caller's unit of work (``web.transactions``) commits
once, then the index follows and the mails leave. Rules broken raise ``OperationError``.
"""


class OperationError(ValueError):
    """A rule was broken; the message is meant for the person who asked."""


from .accounts import (PASSWORD_MIN, authenticate, check_new_password, confirm_user, create_user,  # noqa: E402
                       dummy_password_check, end_sessions, find_user, set_active, set_password, set_role)
from .actors import (ActorMerged, EditConflict, SlugAllocator, _apply, actor_input, actor_snapshot,  # noqa: E402
                     actor_version, archive_actor, check_version, create_actor, edit_actor, lock_actors,
                     publish_actor, record_revision, restore_actor, restore_revision, set_status, update_actor)
from .duplicates import (dismiss_pair, duplicate_count, duplicate_pairs, final_actor, find_duplicates,  # noqa: E402
                         host_of, likely_duplicates, mark_for_duplicates, merge_actors, merged_into, name_key,
                         rebuild_pairs, similar_names, drain_pending, pending_count, count_cap)
from .freshness import (confirm_still_accurate, remind_owners, reminders_due, stale_actors,  # noqa: E402
                        stale_actors_query, stale_count)
from .importing import ActorImporter, ImportSummary, import_actors, record_import, row_outcomes  # noqa: E402
from .moderation import (approve_request, changes_between, claim_actor, close_report, coordinator_entry,  # noqa: E402
                         edit_own_actor,
                         open_request, proposed_input, reject_request, report_error, submit_actor)
from .audit import (UNDOABLE, audit_events, audit_query, can_undo, event_concerns, event_for_networks, is_undone,  # noqa: E402
                    networks_in_journal,  # noqa: E402
                    record_action, undo_event)
from .jobs import (ChunkDone, JobKind, JobLost, advance, beat, cancel_job, claim_job, complete, is_stale, job_user,  # noqa: E402
                   SelectionChanged, freeze_items, job_actor_ids, job_items, may_see_job, needs_freezing,
                   next_ids, queue_deferred, queue_job, visible_jobs)
from .bulk import (NetworkLookup, active_undo_job, bulk_add_to_network, bulk_archive, check_network, export_file_of,  # noqa: E402
                   find_networks, network_choices, queue_undo, undo_in_job,
                   queue_bulk, queue_selection, record_export, selection_impact)
from .bulk import confirmation as bulk_confirmation  # noqa: E402
from .privacy import account_data, delete_account  # noqa: E402
from .partnerships import (LinkProblem, apply_links, directory_partners, find_linked, link_problems,  # noqa: E402
                           linked_slugs, network_problem, partner_key, network_members, partner_of, partner_problem,
                           published_slugs, repoint_links)
from .reads import (PartnershipFigures, indexed_partnership_figures, partnership_figures, public_actor,  # noqa: E402
                    status_counts, submissions_per_month)
from .taxonomy import (TAXONOMIES, add_term, ensure_default_taxonomy, merge_terms, move_term,  # noqa: E402
                       rename_term, set_retired, term_counts, term_impact)
