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

    from repertoire import create_app
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
        pages.add_requests(session, vocab, members, published, done)
        actor = session.scalars(select(Actor).where(Actor.status == "published")
                                .order_by(Actor.id.desc()).limit(1)).one()
        have = session.scalar(select(func.count()).select_from(Revision).where(Revision.actor_id == actor.id))
        pages.add_revisions(session, vocab, actor, max(0, have - 1))
        print(f"{target - done} requests added, {session.scalar(select(func.count()).select_from(ChangeRequest))} "
              f"in all; {pages.REVISIONS - max(0, have - 1)} revisions", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
