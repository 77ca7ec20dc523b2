-- What the portal asks on every page of an application, made one narrow index range each: the failures of the
-- last 24 hours (the dashboard; a status filter of the logs), which on the other indexes read every entry of the
-- period when there are none, and the shadows per kind and state (the Overview's counts), which read every row's
-- exported values without an index of their own.
CREATE INDEX engine_logs_status_newest ON engine_logs (application, status, at, change_id);
CREATE INDEX engine_shadows_state ON engine_shadows (application, kind, state);
