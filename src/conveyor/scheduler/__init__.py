"""Background duties: promotion of due executions, lease reaping, admission, retention."""
