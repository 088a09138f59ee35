"""Work that outlives its worker: leases on the running media and alignment jobs, and the
watchdog that queues a job again once its lease lapses (see leases and watchdog)."""
