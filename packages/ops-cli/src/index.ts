export { AdminClient, AdminRefusal, AdminUnavailable, type AdminAnswer, type AdminClientOptions } from "./admin-client.js";
export { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, runOpsCommand, type OpsContext } from "./ops-command.js";
export { followReplay, type JobStatus, type ProgressOptions } from "./replay-progress.js";
