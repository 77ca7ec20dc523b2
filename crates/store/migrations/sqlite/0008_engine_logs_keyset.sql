-- Provisioning logs in one total order, for keyset paging: newest first is `at` (Unix milliseconds) descending,
-- then `change_id` descending (unique, compared byte-wise). The indexes of 0004 gave the order of `seq`
-- (insertion), which is not `at`'s when entries are recorded out of the order their processing ended; these
-- replace them, each ending with (at, change_id). A page after the (at, change_id) of the previous page's last
-- entry is then one range of an index, `application = ? [AND cycle = ?] AND (at, change_id) < (?, ?) ORDER BY at
-- DESC, change_id DESC LIMIT n`, read in order, and an identity's page is three such ranges (one per column),
-- sorted.
DROP INDEX engine_logs_application;
DROP INDEX engine_logs_cycle;
DROP INDEX engine_logs_source_id;
DROP INDEX engine_logs_target_id;
DROP INDEX engine_logs_source_name;
CREATE INDEX engine_logs_newest ON engine_logs (application, at, change_id);
CREATE INDEX engine_logs_cycle_newest ON engine_logs (application, cycle, at, change_id);
CREATE INDEX engine_logs_source_id_newest ON engine_logs (application, source_id, at, change_id);
CREATE INDEX engine_logs_target_id_newest ON engine_logs (application, target_id, at, change_id);
CREATE INDEX engine_logs_source_name_newest ON engine_logs (application, source_name, at, change_id);
