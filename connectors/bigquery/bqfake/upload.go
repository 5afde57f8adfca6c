package bqfake

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	bq "google.golang.org/api/bigquery/v2"
)

// upload is an open resumable upload session.
type upload struct {
	id   string
	job  *bq.Job
	data []byte
}

// handleUpload serves POST /upload/bigquery/v2/projects/p/jobs, the media
// variant of jobs.insert: uploadType=multipart (metadata and data in one
// multipart/related request) or uploadType=resumable (a session is opened,
// its URL returned in the Location header, then the data is sent to that
// URL in one or more chunks with Content-Range headers).
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, body []byte, parts *mediaParts) (any, *apiError) {
	q := r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		return s.uploadChunk(w, r, id, body)
	}
	switch q.Get("uploadType") {
	case "multipart":
		in, err := s.decodeLoadJob(parts.metadata)
		if err != nil {
			return nil, err
		}
		j, err := s.newJob(in)
		if err != nil {
			return nil, err
		}
		s.runLoadJob(j, parts.media)
		return s.jobResource(j), nil
	case "resumable":
		if r.Method != http.MethodPost {
			return nil, invalidf("bqfake: a resumable upload session is opened with POST")
		}
		in, err := s.decodeLoadJob(body)
		if err != nil {
			return nil, err
		}
		if in.JobReference != nil && in.JobReference.JobId != "" {
			if _, dup := s.jobs[in.JobReference.JobId]; dup {
				return nil, errorf(http.StatusConflict, "duplicate", "Already Exists: Job %s:%s.%s", s.project, locOrUS(in.JobReference.Location), in.JobReference.JobId)
			}
		}
		id := s.nextID("upload_")
		s.uploads[id] = &upload{id: id, job: in}
		w.Header().Set("Location", s.URL()+"/upload/bigquery/v2/projects/"+s.project+"/jobs?uploadType=resumable&upload_id="+id)
		w.Header().Set("X-GUploader-UploadID", id)
		w.WriteHeader(http.StatusOK)
		return handled{}, nil
	case "media", "":
		return nil, invalidf("bqfake: uploadType=%q is not supported: a load job needs its metadata (use multipart or resumable)", q.Get("uploadType"))
	}
	return nil, invalidf("Invalid value for uploadType: %q", q.Get("uploadType"))
}

func (s *Server) decodeLoadJob(body []byte) (*bq.Job, *apiError) {
	var in bq.Job
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	if in.Configuration == nil || in.Configuration.Load == nil {
		return nil, invalidf("bqfake: a media upload must carry a load job configuration")
	}
	if len(in.Configuration.Load.SourceUris) > 0 {
		return nil, invalidf("Source URIs must not be specified when uploading data")
	}
	return &in, nil
}

var contentRangeRe = regexp.MustCompile(`^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$`)

// uploadChunk serves one request of a resumable session.
func (s *Server) uploadChunk(w http.ResponseWriter, r *http.Request, id string, body []byte) (any, *apiError) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return nil, s.unhandled(r)
	}
	u := s.uploads[id]
	if u == nil {
		return nil, notFoundf("bqfake: unknown or already finished upload session %q", id)
	}
	cr := r.Header.Get("Content-Range")
	total := int64(-1)
	if cr == "" {
		// The whole media in a single request.
		u.data = append(u.data[:0], body...)
		total = int64(len(u.data))
	} else {
		m := contentRangeRe.FindStringSubmatch(cr)
		if m == nil {
			return nil, invalidf("bqfake: malformed Content-Range %q", cr)
		}
		if m[3] != "*" {
			total, _ = strconv.ParseInt(m[3], 10, 64)
		}
		if m[1] != "" {
			start, _ := strconv.ParseInt(m[1], 10, 64)
			end, _ := strconv.ParseInt(m[2], 10, 64)
			if end < start || end-start+1 != int64(len(body)) {
				return nil, invalidf("bqfake: Content-Range %q does not match the %d bytes sent", cr, len(body))
			}
			have := int64(len(u.data))
			if start > have {
				return nil, invalidf("bqfake: chunk starts at byte %d but only %d bytes were received", start, have)
			}
			if end >= have { // skip any part already received (a retried chunk)
				u.data = append(u.data, body[have-start:]...)
			}
		} else if len(body) > 0 {
			return nil, invalidf("bqfake: Content-Range %q with a non-empty body", cr)
		}
	}
	have := int64(len(u.data))
	if total >= 0 && have > total {
		return nil, invalidf("bqfake: received %d bytes, more than the declared total %d", have, total)
	}
	if total >= 0 && have == total {
		delete(s.uploads, id)
		j, err := s.newJob(u.job)
		if err != nil {
			return nil, err
		}
		s.runLoadJob(j, u.data)
		return s.jobResource(j), nil
	}
	// Incomplete: report progress as HTTP 308 Resume Incomplete, or as 200
	// with X-Http-Status-Code-Override when the client asks for no 308.
	if have > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", have-1))
	}
	if r.Header.Get("X-GUploader-No-308") == "yes" {
		w.Header().Set("X-Http-Status-Code-Override", "308")
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusPermanentRedirect)
	}
	return handled{}, nil
}
