"""Push dispatch: each push task is offered to the best-matching on-duty people in waves;
the first to accept gets it, the rest are withdrawn; nobody taking it escalates."""
