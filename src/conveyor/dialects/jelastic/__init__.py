"""The Jelastic dialect: `utils.Scheduler` tasks as Conveyor schedules, and `utils.Batch.Call`.

Mount `router` on the API app (`app.include_router(jelastic.router)`); it serves
`/1.0/utils/scheduler/rest/{createaccounttask,createenvtask,edittask,deletetasks,gettasks,
rescheduletasks,unscheduletasks}` and `/1.0/utils/batch/rest/call` for py-jelastic
(`Jelastic(url, token).utils.Scheduler...`), jelastic-client and jelapi, and reads the
service, the ScheduleService and the authenticator from `app.state` as the native routers do.

- Wire (`routes`, `wire`): GET with query parameters or POST with form/JSON/query; `session` is
  the Conveyor token (an open server stays open: a session that is not a token is ignored
  there); `appid` and `X-Base-Url` are ignored; booleans `True`/`False` in any case; `ids` as
  CSV or `[1, 2]`; answers `{"result": 0, "error": "", "reason": 0, "source": "conveyor", ...}`.
- Errors: `result` 2 bad parameter or trigger, 3 conflict, 4 unknown method, 5 not found
  (JelasticResourceNotFound), 702 invalid session, 8202 permission denied
  (JelasticPermissionError), 1 internal error; `error` says what is wrong, `code` names
  Conveyor's error code. HTTP status 200 (404 for an unknown method); never a 500.
- Tasks (`scheduler`): the mapping table is in that module. Task ids are the schedule's UUID
  read as a 128-bit integer; every id parameter also takes the UUID. `params` become the
  workflow's parameters. Triggers: cron is Quartz with seconds in UTC; `once_delay` and `rate`
  are milliseconds on the wire both ways; `date` is ISO-8601 or epoch milliseconds.
- `ruk` is the idempotency key of every mutating call, as `Idempotency-Key` is natively.
- Batch (`batch`): sync runs the calls here in order; async runs them as native calls in
  the native batch's background mode.
"""

from conveyor.dialects.jelastic.routes import router
from conveyor.dialects.jelastic.scheduler import METHODS, TASK_STATUS, task_doc, task_status
from conveyor.dialects.jelastic.wire import RESULT_BY_CODE, parse_jelastic_trigger, trigger_text

__all__ = [
    "METHODS",
    "RESULT_BY_CODE",
    "TASK_STATUS",
    "parse_jelastic_trigger",
    "router",
    "task_doc",
    "task_status",
    "trigger_text",
]
