"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 23:11:41.273546
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('kind',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('actor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_sort', sa.String(length=420), nullable=False),
    sa.Column('acronym', sa.String(length=40), nullable=False),
    sa.Column('kind_id', sa.Integer(), nullable=False),
    sa.Column('town', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=5), nullable=False),
    sa.Column('department', sa.String(length=3), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kind_id'], ['kind.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    with op.batch_alter_table('actor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actor_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_actor_name_sort'), ['name_sort'], unique=False)
        batch_op.create_index(batch_op.f('ix_actor_status'), ['status'], unique=False)

    op.create_table('actor_activity',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'activity_id')
    )
    op.create_table('actor_country',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('actor_id', 'code')
    )
    with op.batch_alter_table('actor_country', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actor_country_code'), ['code'], unique=False)

    op.create_table('actor_domain',
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['domain_id'], ['domain.id'], ),
    sa.PrimaryKeyConstraint('actor_id', 'domain_id')
    )
    op.create_table('actor_town',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('actor_town', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actor_town_actor_id'), ['actor_id'], unique=False)



def downgrade():
    with op.batch_alter_table('actor_town', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_town_actor_id'))

    op.drop_table('actor_town')
    op.drop_table('actor_domain')
    with op.batch_alter_table('actor_country', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_country_code'))

    op.drop_table('actor_country')
    op.drop_table('actor_activity')
    with op.batch_alter_table('actor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actor_status'))
        batch_op.drop_index(batch_op.f('ix_actor_name_sort'))
        batch_op.drop_index(batch_op.f('ix_actor_department'))

    op.drop_table('actor')
    op.drop_table('user_account')
    op.drop_table('kind')
    op.drop_table('domain')
    op.drop_table('activity')
