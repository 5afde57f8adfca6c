package bqfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// job is a job known to the fake. Its effects are applied when it is
// created; it is reported RUNNING in the jobs.insert response and DONE from
// the next jobs.get / getQueryResults on, so the client always polls.
type job struct {
	ref       bq.JobReference
	config    *bq.JobConfiguration
	observed  bool
	errResult *bq.ErrorProto
	created   time.Time
	ended     time.Time

	loadStats  *bq.JobStatistics3
	queryStats *bq.JobStatistics2
	children   int64
	result     *queryResult // query jobs only
}

// queryResult is what getQueryResults returns for a query job.
type queryResult struct {
	fields  []Field // nil when the statement returns no rows
	rows    []map[string]any
	dmlRows int64
	isDML   bool
}

var jobIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (s *Server) jobResource(j *job) *bq.Job {
	ref := j.ref
	out := &bq.Job{
		Kind:          "bigquery#job",
		Id:            ref.ProjectId + ":" + ref.Location + "." + ref.JobId,
		SelfLink:      s.URL() + "/bigquery/v2/projects/" + ref.ProjectId + "/jobs/" + ref.JobId + "?location=" + ref.Location,
		JobReference:  &ref,
		Configuration: j.config,
		UserEmail:     "bqfake@example.com",
		Status:        &bq.JobStatus{State: "RUNNING"},
		Statistics:    &bq.JobStatistics{CreationTime: millis(j.created), StartTime: millis(j.created)},
	}
	if !j.observed && !j.config.DryRun { // a dry run is answered at once, as BigQuery does
		return out
	}
	out.Status.State = "DONE"
	out.Statistics.EndTime = millis(j.ended)
	if j.errResult != nil {
		e := *j.errResult
		out.Status.ErrorResult = &e
		out.Status.Errors = []*bq.ErrorProto{&e}
		return out
	}
	out.Statistics.Load = j.loadStats
	out.Statistics.Query = j.queryStats
	out.Statistics.NumChildJobs = j.children
	if j.queryStats != nil {
		out.Statistics.TotalBytesProcessed = j.queryStats.TotalBytesProcessed
	}
	return out
}

// newJob validates the parts of a Job resource common to all job kinds and
// registers the job. The caller executes it.
func (s *Server) newJob(in *bq.Job) (*job, *apiError) {
	if in.Configuration == nil {
		return nil, invalidf("Required parameter is missing: configuration")
	}
	ref := bq.JobReference{ProjectId: s.project}
	if in.JobReference != nil {
		ref = *in.JobReference
		if ref.ProjectId == "" {
			ref.ProjectId = s.project
		}
	}
	if ref.ProjectId != s.project {
		return nil, errorf(http.StatusForbidden, "accessDenied", "Access Denied: Project %s: User does not have bigquery.jobs.create permission in project %s.", ref.ProjectId, ref.ProjectId)
	}
	if ref.JobId == "" {
		ref.JobId = s.nextID("job_")
	}
	if !validID(jobIDRe, ref.JobId) {
		return nil, invalidf("Invalid job ID %q. Job IDs must be alphanumeric (plus underscores and dashes) and must be at most 1024 characters long.", ref.JobId)
	}
	if _, ok := s.jobs[ref.JobId]; ok {
		return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Job %s:%s.%s", ref.ProjectId, locOrUS(ref.Location), ref.JobId)
	}
	j := &job{ref: ref, config: in.Configuration, created: time.Now()}
	s.jobs[ref.JobId] = j
	return j, nil
}

func locOrUS(loc string) string {
	if loc == "" {
		return "US"
	}
	return loc
}

// injectedFailure consumes the first FailJob rule matching the job's
// configuration.
func (s *Server) injectedFailure(cfg *bq.JobConfiguration) *bq.ErrorProto {
	b, _ := json.Marshal(cfg)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for i, f := range s.jobFaults {
		if f.match == nil || f.match(m) {
			s.jobFaults = append(s.jobFaults[:i:i], s.jobFaults[i+1:]...)
			return &bq.ErrorProto{Reason: f.reason, Message: f.message}
		}
	}
	return nil
}

func (j *job) fail(e *apiError) {
	j.errResult = &bq.ErrorProto{Reason: e.Reason, Message: e.Message}
	if j.config.Query != nil && (e.Reason == "invalidQuery" || e.Reason == "notFound") {
		j.errResult.Location = "query"
	}
}

func (s *Server) insertJSONJob(body []byte) (any, *apiError) {
	var in bq.Job
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	if in.Configuration != nil && in.Configuration.Load != nil {
		if len(in.Configuration.Load.SourceUris) > 0 {
			return nil, invalidf("bqfake: loading from Cloud Storage (sourceUris) is not supported; upload the data with the job")
		}
		return nil, invalidf("Load configuration must specify at least one source URI")
	}
	if in.Configuration != nil && in.Configuration.Query == nil {
		return nil, invalidf("bqfake: only load and query jobs are supported")
	}
	j, err := s.newJob(&in)
	if err != nil {
		return nil, err
	}
	s.runQueryJob(j)
	return s.jobResource(j), nil
}

func (s *Server) lookupJob(r *http.Request, id string) (*job, *apiError) {
	j := s.jobs[id]
	loc := r.URL.Query().Get("location")
	if j == nil || (loc != "" && !strings.EqualFold(loc, j.ref.Location)) {
		return nil, notFoundf("Not found: Job %s:%s", s.project, qualifyJob(loc, id))
	}
	return j, nil
}

func qualifyJob(loc, id string) string {
	if loc == "" {
		return id
	}
	return loc + "." + id
}

func (s *Server) getJob(r *http.Request, id string) (any, *apiError) {
	j, err := s.lookupJob(r, id)
	if err != nil {
		return nil, err
	}
	j.observed = true
	return s.jobResource(j), nil
}

func (s *Server) cancelJob(r *http.Request, id string) (any, *apiError) {
	j, err := s.lookupJob(r, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"kind": "bigquery#jobCancelResponse", "job": s.jobResource(j)}, nil
}

// getQueryResults serves jobs.getQueryResults. A failed job is reported as
// an HTTP error with the status of its error reason, as BigQuery does (the
// client's Job.Wait/Read then return that error).
func (s *Server) getQueryResults(r *http.Request, id string) (any, *apiError) {
	j, err := s.lookupJob(r, id)
	if err != nil {
		return nil, err
	}
	if j.config.Query == nil {
		return nil, invalidf("Job %s:%s.%s is not a query job", j.ref.ProjectId, j.ref.Location, id)
	}
	j.observed = true
	if j.errResult != nil {
		return nil, errorf(statusForReason(j.errResult.Reason), j.errResult.Reason, "%s", j.errResult.Message)
	}
	return s.resultsPage(r.URL.Query(), j)
}

func (s *Server) resultsPage(params url.Values, j *job) (map[string]any, *apiError) {
	res := j.result
	page, next, err := pageOf(len(res.rows), params, 100000)
	if err != nil {
		return nil, err
	}
	int64ts := params.Get("formatOptions.useInt64Timestamp") == "true"
	ref := j.ref
	out := map[string]any{
		"kind":                "bigquery#getQueryResultsResponse",
		"etag":                strconv.FormatInt(j.created.UnixNano(), 36),
		"jobReference":        &ref,
		"jobComplete":         true,
		"cacheHit":            false,
		"totalBytesProcessed": "0",
		"totalRows":           itoa(len(res.rows)),
	}
	if len(page) > 0 {
		out["rows"] = encodeRows(res.rows, page, res.fields, int64ts)
	}
	if next != "" {
		out["pageToken"] = next
	}
	if res.fields != nil {
		out["schema"] = schemaResource(res.fields)
	}
	if res.isDML {
		out["numDmlAffectedRows"] = strconv.FormatInt(res.dmlRows, 10)
	}
	return out, nil
}

// runQueryRequest serves jobs.query, the client's fast path for
// Query.Read: the job runs synchronously and the first page of results is
// returned with it; errors are returned as HTTP errors.
func (s *Server) runQueryRequest(body []byte) (any, *apiError) {
	var in bq.QueryRequest
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	if in.Query == "" {
		return nil, invalidf("Required parameter is missing: query")
	}
	if in.DryRun {
		return nil, invalidf("bqfake: dryRun is not supported on jobs.query")
	}
	cfg := &bq.JobConfiguration{Query: &bq.JobConfigurationQuery{
		Query: in.Query, UseLegacySql: in.UseLegacySql, QueryParameters: in.QueryParameters,
		DefaultDataset: in.DefaultDataset, ParameterMode: in.ParameterMode,
	}}
	j, err := s.newJob(&bq.Job{JobReference: &bq.JobReference{Location: in.Location}, Configuration: cfg})
	if err != nil {
		return nil, err
	}
	s.runQueryJob(j)
	j.observed = true
	if j.errResult != nil {
		return nil, errorf(statusForReason(j.errResult.Reason), j.errResult.Reason, "%s", j.errResult.Message)
	}
	params := url.Values{"maxResults": {maxResultsParam(in.MaxResults)}, "formatOptions.useInt64Timestamp": {int64tsParam(in.FormatOptions)}}
	page, perr := s.resultsPage(params, j)
	if perr != nil {
		return nil, perr
	}
	page["kind"] = "bigquery#queryResponse"
	delete(page, "etag")
	return page, nil
}

func maxResultsParam(n int64) string {
	if n <= 0 {
		return "100000"
	}
	return strconv.FormatInt(n, 10)
}

func int64tsParam(f *bq.DataFormatOptions) string {
	if f != nil && f.UseInt64Timestamp {
		return "true"
	}
	return "false"
}

// runQueryJob executes a query job and records its outcome.
func (s *Server) runQueryJob(j *job) {
	defer func() { j.ended = time.Now() }()
	qc := j.config.Query
	if e := s.injectedFailure(j.config); e != nil {
		j.errResult = e
		if j.ref.Location == "" {
			j.ref.Location = "US"
		}
		return
	}
	if s.cannedAnswer(j) {
		return
	}
	if qc.UseLegacySql == nil || *qc.UseLegacySql {
		j.fail(queryErrf("bqfake: legacy SQL is not supported; set useLegacySql=false"))
		j.ref.Location = locOrUS(j.ref.Location)
		return
	}
	if qc.DestinationTable != nil {
		j.fail(invalidf("bqfake: query jobs with a destinationTable are not supported"))
		j.ref.Location = locOrUS(j.ref.Location)
		return
	}
	ec := &execCtx{s: s, location: j.ref.Location, dryRun: j.config.DryRun}
	res, stats, children, err := ec.runScript(qc.Query, qc.QueryParameters)
	j.ref.Location = locOrUS(ec.location)
	if err != nil {
		j.fail(err)
		return
	}
	j.result = res
	j.queryStats = stats
	j.children = children
}

func itoa(n int) string { return strconv.Itoa(n) }
