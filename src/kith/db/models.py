"""Imports every model so metadata is complete (Alembic, tests)."""

from kith.activities.models import Event, Followup  # noqa: F401
from kith.auth.models import Department, LoginFailure, RefreshToken, Role, User, UserRole  # noqa: F401
from kith.contacts.models import Contact  # noqa: F401
from kith.contracts.models import Contract, Payment, PaymentPlan  # noqa: F401
from kith.core.idempotency import IdempotencyKey  # noqa: F401
from kith.customers.models import Customer  # noqa: F401
from kith.customfields.models import CustomField  # noqa: F401
from kith.db.base import Base  # noqa: F401
from kith.opportunities.models import OpportunityContact, Opportunity, Pipeline, QuoteLine, Stage, StageHistory  # noqa: F401
from kith.products.models import Product  # noqa: F401
from kith.tags.models import Tag, Tagging  # noqa: F401

SEARCH_TABLES = ("customers", "contacts", "opportunities")

# The search index is kept in step by session listeners: register them with the models.
import kith.search.index  # noqa: E402,F401
from kith.access.models import AccessGrant, RecordCollaborator  # noqa: E402,F401
from kith.approvals.models import ApprovalAction, ApprovalFlow, ApprovalRequest  # noqa: E402,F401
from kith.audit.models import AuditEntry  # noqa: E402,F401
import kith.audit.service  # noqa: E402,F401  (flush listeners)
from kith.tasks.models import Task  # noqa: E402,F401
from kith.activities.attachments import Attachment  # noqa: E402,F401
from kith.notifications.models import Notification  # noqa: E402,F401
from kith.notifications.models import Delivery, NotificationChannel, NotificationPreference  # noqa: E402,F401
from kith.core.jobs import JobLease  # noqa: E402,F401
from kith.reminders.models import ReminderLog, ReminderRule, ReminderSnooze  # noqa: E402,F401
from kith.pool.models import Handover, PoolLog, PoolRule  # noqa: E402,F401
from kith.dedup.models import Merge  # noqa: E402,F401
from kith.imports.models import ImportBatch, ImportRow, ImportTemplate  # noqa: E402,F401
from kith.reports.models import ReportPin  # noqa: E402,F401
