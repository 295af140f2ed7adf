/*
 * metrics.c - counters for /metrics in the Prometheus text format.  Each
 * worker counts into its own block with relaxed atomics (no lock, no
 * shared cache line on the hot path); a scrape sums the blocks.
 *
 * Never: label a series with anything a client chose (a path, a CN, an
 * id): the label sets are fixed here, so the output stays bounded.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "disclosured.h"

static const int statuses[METRICS_STATUSES - 1] = {200, 201, 400, 403, 404, 405, 409,
						   413, 415, 429, 500, 503, 501};
static const double latency_bounds[METRICS_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static int status_index(int status)
{
	for (int i = 0; i < METRICS_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_STATUSES - 1; /* "other" */
}

void metrics_request_done(struct worker_metrics *m, enum endpoint ep, int status,
			  uint64_t elapsed_ns)
{
	double s = (double)elapsed_ns / 1e9;
	int b;

	if ((int)ep < 0 || ep >= EP_COUNT)
		ep = EP_NONE;
	atomic_fetch_add_explicit(&m->requests[ep][status_index(status)], 1, memory_order_relaxed);
	for (b = 0; b < METRICS_LATENCY_BUCKETS; b++)
		if (s <= latency_bounds[b])
			break;
	atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_sum_us, elapsed_ns / 1000u, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
}

void metrics_check_outcome(struct worker_metrics *m, enum band outcome)
{
	int i = outcome == BAND_MATCH ? 2 : outcome == BAND_POSSIBLE_MATCH ? 1 : 0;

	atomic_fetch_add_explicit(&m->checks[i], 1, memory_order_relaxed);
}

void metrics_check_work(struct worker_metrics *m, const struct check_result *res)
{
	atomic_fetch_add_explicit(&m->check_considered, res->n_considered, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->check_views, res->n_views, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->check_candidates, res->n_candidates, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->check_more, res->more_candidates ? 1 : 0, memory_order_relaxed);
}

static uint64_t ld(const atomic_uint_fast64_t *v)
{
	return (uint64_t)atomic_load_explicit(v, memory_order_relaxed);
}

int metrics_render(struct daemon *d, struct evbuffer *out)
{
	static const char *const outcomes[3] = {"no_match", "possible_match", "match"};
	uint64_t sum, cum, count, sum_us;

	evbuffer_add_printf(out, "# HELP disclosured_requests_total Requests answered, by endpoint "
				 "and HTTP status.\n# TYPE disclosured_requests_total counter\n");
	for (int ep = 0; ep < EP_COUNT; ep++) {
		for (int s = 0; s < METRICS_STATUSES; s++) {
			sum = 0;
			for (int w = 0; w < d->n_workers; w++)
				sum += ld(&d->workers[w].metrics.requests[ep][s]);
			if (sum == 0)
				continue;
			if (s < METRICS_STATUSES - 1)
				evbuffer_add_printf(out,
						    "disclosured_requests_total{endpoint=\"%s\","
						    "status=\"%d\"} %" PRIu64 "\n",
						    endpoint_name((enum endpoint)ep), statuses[s], sum);
			else
				evbuffer_add_printf(out,
						    "disclosured_requests_total{endpoint=\"%s\","
						    "status=\"other\"} %" PRIu64 "\n",
						    endpoint_name((enum endpoint)ep), sum);
		}
	}
	evbuffer_add_printf(out, "# HELP disclosured_request_duration_seconds Time from the "
				 "request to its answer.\n"
				 "# TYPE disclosured_request_duration_seconds histogram\n");
	cum = 0;
	for (int b = 0; b <= METRICS_LATENCY_BUCKETS; b++) {
		for (int w = 0; w < d->n_workers; w++)
			cum += ld(&d->workers[w].metrics.latency[b]);
		if (b < METRICS_LATENCY_BUCKETS)
			evbuffer_add_printf(out,
					    "disclosured_request_duration_seconds_bucket{le=\"%g\"} "
					    "%" PRIu64 "\n",
					    latency_bounds[b], cum);
		else
			evbuffer_add_printf(out,
					    "disclosured_request_duration_seconds_bucket{le=\"+Inf\"} "
					    "%" PRIu64 "\n",
					    cum);
	}
	count = sum_us = 0;
	for (int w = 0; w < d->n_workers; w++) {
		count += ld(&d->workers[w].metrics.latency_count);
		sum_us += ld(&d->workers[w].metrics.latency_sum_us);
	}
	evbuffer_add_printf(out,
			    "disclosured_request_duration_seconds_sum %.6f\n"
			    "disclosured_request_duration_seconds_count %" PRIu64 "\n",
			    (double)sum_us / 1e6, count);
	evbuffer_add_printf(out, "# HELP disclosured_checks_total Checks run, by outcome.\n"
				 "# TYPE disclosured_checks_total counter\n");
	for (int i = 0; i < 3; i++) {
		sum = 0;
		for (int w = 0; w < d->n_workers; w++)
			sum += ld(&d->workers[w].metrics.checks[i]);
		evbuffer_add_printf(out, "disclosured_checks_total{outcome=\"%s\"} %" PRIu64 "\n",
				    outcomes[i], sum);
	}
	{
		static const struct {
			const char *name, *help;
			size_t off;
		} work[] = {
			{"disclosured_check_records_weighed_total",
			 "Records the matcher weighed, by their view or their index tags, over all checks run.",
			 offsetof(struct worker_metrics, check_considered)},
			{"disclosured_check_views_read_total",
			 "Match views the matcher read from the store, over all checks run.",
			 offsetof(struct worker_metrics, check_views)},
			{"disclosured_check_candidates_total",
			 "Candidates in the answers of all checks run.",
			 offsetof(struct worker_metrics, check_candidates)},
			{"disclosured_check_more_candidates_total",
			 "Checks whose answer said that more people may fit than it shows.",
			 offsetof(struct worker_metrics, check_more)},
		};
		for (size_t i = 0; i < sizeof(work) / sizeof(work[0]); i++) {
			sum = 0;
			for (int w = 0; w < d->n_workers; w++)
				sum += ld((const atomic_uint_fast64_t *)((const char *)&d->workers[w].metrics +
									 work[i].off));
			evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n",
					    work[i].name, work[i].help, work[i].name, work[i].name, sum);
		}
	}
	evbuffer_add_printf(out, "# HELP disclosured_tls_handshake_failures_total TLS handshakes "
				 "that failed, by reason.\n"
				 "# TYPE disclosured_tls_handshake_failures_total counter\n");
	for (int r = 0; r < TLS_REFUSALS; r++) {
		sum = 0;
		for (int w = 0; w < d->n_workers; w++)
			sum += ld(&d->workers[w].metrics.tls_refused[r]);
		evbuffer_add_printf(out,
				    "disclosured_tls_handshake_failures_total{reason=\"%s\"} %" PRIu64
				    "\n",
				    tls_refusal_label((enum tls_refusal)r), sum);
	}
	{
		time_t not_after, next_update, now = time(NULL);
		bool has_crl = tls_server_dates(d->tls, &not_after, &next_update);

		evbuffer_add_printf(out,
				    "# HELP disclosured_tls_certificate_expiry_seconds Seconds until "
				    "the server certificate in use expires (negative: expired).\n"
				    "# TYPE disclosured_tls_certificate_expiry_seconds gauge\n"
				    "disclosured_tls_certificate_expiry_seconds %lld\n",
				    (long long)(not_after - now));
		if (has_crl)
			evbuffer_add_printf(
			    out,
			    "# HELP disclosured_tls_crl_next_update_seconds Seconds until the next "
			    "update of the CRL in use (negative: past it, and every client is "
			    "refused).\n"
			    "# TYPE disclosured_tls_crl_next_update_seconds gauge\n"
			    "disclosured_tls_crl_next_update_seconds %lld\n",
			    (long long)(next_update - now));
	}
	evbuffer_add_printf(out,
			    "# HELP disclosured_open_connections TLS connections open now.\n"
			    "# TYPE disclosured_open_connections gauge\n"
			    "disclosured_open_connections %ld\n"
			    "# HELP disclosured_audit_seq Audit entries committed (the next seq).\n"
			    "# TYPE disclosured_audit_seq gauge\n"
			    "disclosured_audit_seq %" PRIu64 "\n"
			    "# HELP disclosured_records Offender records in the store.\n"
			    "# TYPE disclosured_records gauge\n"
			    "disclosured_records %" PRIu64 "\n",
			    atomic_load_explicit(&d->open_conns, memory_order_relaxed),
			    ld(&d->audit_seq), ld(&d->records));
	{
		size_t used, map, file;

		if (store_space(d->store, &used, &map, &file) == DSC_OK)
			evbuffer_add_printf(
			    out,
			    "# HELP disclosured_store_used_bytes Bytes up to the store's last page in "
			    "use (free pages below it are reused first); writes fail (503) when the "
			    "pages a write needs pass the map size.\n"
			    "# TYPE disclosured_store_used_bytes gauge\n"
			    "disclosured_store_used_bytes %zu\n"
			    "# HELP disclosured_store_map_bytes The store's map size ([store] map_size).\n"
			    "# TYPE disclosured_store_map_bytes gauge\n"
			    "disclosured_store_map_bytes %zu\n"
			    "# HELP disclosured_store_file_bytes Size of the store's data file: the "
			    "pages in use, free pages, and zeros written ahead ([store] preallocate).\n"
			    "# TYPE disclosured_store_file_bytes gauge\n"
			    "disclosured_store_file_bytes %zu\n",
			    used, map, file);
	}
	return writer_metrics_render(d->writer, out);
}
