package request

// TaskQueue is where request workflows and their activities run (TEMPORAL_TASK_QUEUE
// overrides it, for a deployment that shares a Temporal namespace).
const TaskQueue = "rome-requests"
