-- wrk script of bench/pages.py: one JSON line of figures when the run is done, so the bench
-- reads numbers rather than wrk's text. Latencies are in microseconds; `status` counts the
-- answers of 400 and above (wrk's own count; bench/pages.py checks for 200 before and after).
function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "status": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
