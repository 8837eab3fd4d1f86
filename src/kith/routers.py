"""Every API router, in one place."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI, prefix: str) -> None:
    from kith.core import jobs

    if getattr(app.state, "settings", None) is not None:
        jobs.configure(app.state.settings)  # enqueue() after commit: eager in tests, the queue otherwise
    from kith.activities.attachments import router as attachments
    from kith.activities.router import router as followups
    from kith.auth.admin_router import routers as admin
    from kith.approvals.router import flow_router
    from kith.approvals.router import router as approvals
    from kith.audit.router import router as audit
    from kith.auth.router import router as auth
    from kith.contacts.router import router as contacts
    from kith.contracts.router import router as contracts
    from kith.customers.router import router as customers
    from kith.customfields.router import router as custom_fields
    from kith.dedup.router import router as dedup
    from kith.imports.router import routers as imports
    from kith.notifications.router import router as notifications
    from kith.opportunities.pipelines import router as pipelines
    from kith.opportunities.router import router as opportunities
    from kith.pool.router import router as pool
    from kith.products.router import router as products
    from kith.reminders.router import router as reminders
    from kith.reports.router import router as reports
    from kith.search.router import router as search
    from kith.tags.router import router as tags
    from kith.tasks.calendar import router as calendar
    from kith.tasks.router import router as tasks

    for router in (auth, *admin, customers, contacts, opportunities, pipelines, contracts, products, followups, tasks, tags, custom_fields, search, audit, approvals, flow_router, calendar, attachments, notifications, dedup, reports, reminders, pool, *imports):
        app.include_router(router, prefix=prefix)
