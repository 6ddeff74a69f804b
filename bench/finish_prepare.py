"""Finish `bench/pages.py`'s one-off data on a directory whose preparation stopped half-way (e.g. SQLite busy):
the open requests still missing (1 % of the actors) and the history actor's revisions; then `pages.py` goes on.

    .venv/bin/python bench/finish_prepare.py DIR
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pages  # noqa: E402


def main(directory: str):
    from sqlalchemy import func, select

    from repertoire import create_app, operations
    from repertoire.extensions import db
    from repertoire.models import Actor, ChangeRequest, Revision, User
    from repertoire.validation import Vocabulary

    app = create_app(pages.config_for(directory))
    with app.app_context():
        session, vocab = db.session, Vocabulary(db.session)
        members = list(session.scalars(select(User).where(User.role == "member").order_by(User.id)))
        total = session.scalar(select(func.count()).select_from(Actor))
        target = max(2, total // 100)
        done = session.scalar(select(func.count()).select_from(ChangeRequest))
        published = list(session.scalars(select(Actor).where(Actor.status == "published")
                                          .order_by(Actor.id).limit(target)))
        slugs = operations.SlugAllocator(session)
        for n in range(done, target):  # as pages._add_data, from where it stopped
            actor, member = published[n], members[n % len(members)]
            if n % 2:
                operations.claim_actor(session, member, actor, "Je m'occupe de cette association.")
            else:
                data = operations.actor_input(actor)
                data.name = f"{data.name} antenne {n}"
                entry = operations.create_actor(session, data, vocab, status="pending", slugs=slugs, user=member,
                                                action="submit")
                entry.owner = member
                session.add(ChangeRequest(kind="new", actor=entry, user=member, message="Nouvelle antenne."))
            if n % 200 == 199:
                session.commit()
        session.commit()
        actor = session.scalars(select(Actor).where(Actor.status == "published")
                                .order_by(Actor.id.desc()).limit(1)).one()
        have = session.scalar(select(func.count()).select_from(Revision).where(Revision.actor_id == actor.id))
        for n in range(max(0, have - 1), pages.REVISIONS):
            data = operations.actor_input(actor)
            data.description = f"{data.description.split(' [')[0]} [version {n}]"
            operations.update_actor(session, actor, data, vocab)
            session.commit()
        print(f"{target - done} requests added, {session.scalar(select(func.count()).select_from(ChangeRequest))} "
              f"in all; {pages.REVISIONS - max(0, have - 1)} revisions", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
