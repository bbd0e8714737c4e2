"""The ONTAP dialect: Conveyor executions as ONTAP jobs under `/api/cluster/jobs`.

Mount `router` on the API app (`app.include_router(ontap.router)`); it reads the
service and the authenticator from `app.state`, as the native routers do.
"""

from conveyor.dialects.ontap.mapping import STATE_BY_STATUS, STATES
from conveyor.dialects.ontap.routes import router

__all__ = ["STATES", "STATE_BY_STATUS", "router"]
