"""Reminder rules (提醒规则), the log of reminders sent and snoozes; `service.run_scan` is the periodic scan."""
