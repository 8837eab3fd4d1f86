"""The public pool (公海): rules, sweep (return + warning), release, claim, assign; handovers (离职交接)."""
