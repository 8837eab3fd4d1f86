"""A per-user iCalendar feed of open tasks and planned follow-ups, behind a secret, revocable URL."""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, load_actor, readable
from kith.auth.models import User
from kith.auth.security import hash_token, new_refresh_token
from kith.core import clock
from kith.core.deps import current_actor, get_session
from kith.core.errors import not_found
from kith.customers.models import Customer
from kith.tasks.models import Task

router = APIRouter(tags=["tasks"])


@router.post("/me/calendar-token", summary="Create (or replace) my calendar feed URL; the old URL stops working")
def create_feed(request: Request, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
    user = session.get(User, actor.user_id)
    assert user is not None
    token, digest = new_refresh_token()
    user.calendar_token_hash = digest
    session.commit()
    base = str(request.base_url).rstrip("/")
    url = f"{base}/api/v1/calendar/{token}.ics"
    return JSONResponse({"url": url}, status_code=201, headers={"Location": url})


@router.delete("/me/calendar-token", status_code=204, response_model=None, summary="Revoke my calendar feed URL")
def revoke_feed(actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    user = session.get(User, actor.user_id)
    assert user is not None
    user.calendar_token_hash = None
    session.commit()
    return Response(status_code=204)


@router.get("/calendar/{token}.ics", summary="My tasks and planned follow-ups as iCalendar (subscribe in a calendar app)",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
def feed(token: str, session: Session = Depends(get_session)) -> Response:
    if len(token) > 100:
        raise not_found()
    user = session.scalar(select(User).where(User.calendar_token_hash == hash_token(token), User.is_active.is_(True)))
    if user is None:
        raise not_found()
    actor = load_actor(session, user)
    cal = Calendar()
    cal.add("prodid", "-//Kith CRM//kith//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Kith · {user.display_name}")
    now = clock.now()
    tasks = session.scalars(select(Task).where(Task.owner_id == user.id, Task.deleted_at.is_(None), Task.done_at.is_(None),
                                               Task.due_at.is_not(None), readable(actor, Task, "task")).order_by(Task.due_at).limit(1000))
    for task in tasks:
        ev = Event()
        ev.add("uid", f"task-{task.id}@kith")
        ev.add("summary", f"待办：{task.title}")
        ev.add("dtstart", task.due_at)
        ev.add("dtend", task.due_at + timedelta(minutes=30))
        ev.add("dtstamp", now)
        if task.description:
            ev.add("description", task.description[:2000])
        cal.add_component(ev)
    planned = session.scalars(select(Customer).where(Customer.owner_id == user.id, Customer.deleted_at.is_(None),
                                                     Customer.next_followup_at.is_not(None), Customer.next_followup_at >= now - timedelta(days=30))
                              .order_by(Customer.next_followup_at).limit(1000))
    for customer in planned:
        ev = Event()
        ev.add("uid", f"followup-{customer.id}-{int(customer.next_followup_at.timestamp())}@kith")
        ev.add("summary", f"跟进：{customer.name}")
        ev.add("dtstart", customer.next_followup_at)
        ev.add("dtend", customer.next_followup_at + timedelta(minutes=30))
        ev.add("dtstamp", now)
        cal.add_component(ev)
    return Response(cal.to_ical(), media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="kith.ics"'})
