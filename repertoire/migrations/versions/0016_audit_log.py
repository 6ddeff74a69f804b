"""The audit log: append-only events of coordinators and admins (the database refuses UPDATE and DELETE)

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TABLES = ('audit_event', 'audit_event_network')


def upgrade():
    op.create_table('audit_event',
                    sa.Column('id', sa.Integer(), primary_key=True),
                    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=True),
                    sa.Column('kind', sa.String(40), nullable=False),
                    sa.Column('target_type', sa.String(20), nullable=False),
                    sa.Column('target_id', sa.Integer(), nullable=True),
                    sa.Column('target_label', sa.String(300), nullable=False),
                    sa.Column('before', sa.JSON(), nullable=True),
                    sa.Column('after', sa.JSON(), nullable=True),
                    sa.Column('networks', sa.JSON(), nullable=False),
                    sa.Column('undo_of_id', sa.Integer(), nullable=True),
                    sa.UniqueConstraint('undo_of_id'))
    op.create_index('ix_audit_event_created_at', 'audit_event', ['created_at'])
    op.create_index('ix_audit_event_user_id_id', 'audit_event', ['user_id', 'id'])
    op.create_index('ix_audit_event_kind_id', 'audit_event', ['kind', 'id'])
    op.create_index('ix_audit_event_target', 'audit_event', ['target_type', 'target_id'])
    op.create_table('audit_event_network',
                    sa.Column('network_id', sa.Integer(), primary_key=True),
                    sa.Column('event_id', sa.Integer(), primary_key=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only (' || TG_OP
                                                               || ' refused on ' || TG_TABLE_NAME || ')';
                      END $$""")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    else:
        for table in TABLES:
            for verb in ('UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)  # its triggers go with it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION audit_append_only()")
