"""Domain core: model, state machine, admission, errors, service. Knows nothing of HTTP or SQL."""
