package graphsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Paged lists, as Graph pages them: at most $top items a page (up to 300,
// "$top supports up to 300 objects"), a default page size when $top is
// absent, and an @odata.nextLink holding the whole URL of the next page,
// the request's other query options included, with a $skiptoken. A query
// option the simulator does not take, a $top out of range or a skip token
// it did not give for this query is refused 400 invalidRequest, with the
// documented detailed code as innerError.
// Sources:
// https://learn.microsoft.com/graph/paging
// https://learn.microsoft.com/graph/errors (invalidRequest; invalidQueryOption,
// tooManyResultsRequested, zeroOrFewerResultsRequested, invalidParameterFormat)
// https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships

// MaxPageSize is the largest $top the lists take.
const MaxPageSize = 300

// DefaultPageSize is a page's size without $top. Graph documents none for
// these lists; the simulator's is small enough that lists really page.
const DefaultPageSize = 100

// listQuery is a list request's query: its $filter, page size and start.
type listQuery struct {
	filter   string
	top      int
	topGiven bool
	offset   int
}

// badQuery is a refusal of a list's query: invalidRequest with detail.
func badQuery(detail, format string, args ...any) reply {
	rep := fail(http.StatusBadRequest, "invalidRequest", format, args...)
	e := rep.body.(wireError)
	e.Error.InnerError = &wireErrorDetail{Code: detail, Message: e.Error.Message}
	rep.body = e
	return rep
}

// readListQuery reads $filter (when filtered), $top and $skiptoken, in any
// case, as OData query options are; anything else is refused.
func (s *Server) readListQuery(r *http.Request, filtered bool) (listQuery, *reply) {
	q := listQuery{top: DefaultPageSize}
	var token string
	for _, k := range sortedKeys(r.URL.Query()) {
		v := r.URL.Query()[k]
		switch key := strings.ToLower(k); {
		case len(v) != 1:
			rep := badQuery("invalidQueryOption", "Query option %s is given %d times.", k, len(v))
			return q, &rep
		case key == "$filter" && filtered:
			q.filter = v[0]
		case key == "$top":
			n, err := strconv.Atoi(v[0])
			if rep := topRefusal(v[0], n, err); rep != nil {
				return q, rep
			}
			q.top, q.topGiven = n, true
		case key == "$skiptoken":
			token = v[0]
		default:
			rep := badQuery("invalidQueryOption", "Query option %s is not supported here.", k)
			return q, &rep
		}
	}
	if token != "" {
		offset, ok := s.readSkipToken(token, r.URL.Path, q)
		if !ok {
			rep := badQuery("invalidParameterFormat", "The $skiptoken is not one this list gave for this query.")
			return q, &rep
		}
		q.offset = offset
	}
	return q, nil
}

// topRefusal says what is wrong with a $top, or nil.
func topRefusal(raw string, n int, err error) *reply {
	var rep reply
	switch {
	case err != nil:
		rep = badQuery("invalidParameterFormat", "$top %q is not a number.", raw)
	case n < 1:
		rep = badQuery("zeroOrFewerResultsRequested", "$top must be at least 1.")
	case n > MaxPageSize:
		rep = badQuery("tooManyResultsRequested", "$top supports up to %d objects.", MaxPageSize)
	default:
		return nil
	}
	return &rep
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// skipToken is a signed position in a list, for one path and query.
type skipToken struct {
	Offset int    `json:"o"`
	Query  string `json:"q"`
}

func (s *Server) skipToken(path string, q listQuery, offset int) string {
	payload, _ := json.Marshal(skipToken{Offset: offset, Query: queryKey(path, q)})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.sign(p))
}

func (s *Server) readSkipToken(token, path string, q listQuery) (int, bool) {
	p, sig, found := strings.Cut(token, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !found || err != nil || !hmac.Equal(mac, s.sign(p)) {
		return 0, false
	}
	var t skipToken
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &t) != nil || t.Query != queryKey(path, q) || t.Offset < 0 {
		return 0, false
	}
	return t.Offset, true
}

func (s *Server) sign(p string) []byte {
	h := hmac.New(sha256.New, s.pageKey)
	h.Write([]byte(p))
	return h.Sum(nil)
}

// queryKey is what a skip token is bound to: the list and its query.
func queryKey(path string, q listQuery) string {
	return path + "|" + q.filter + "|" + strconv.Itoa(q.top)
}

// page is one page of n items from q's position, and its next link ("" on
// the last page): the request's URL with the same options and a skip token.
func (s *Server) page(r *http.Request, q listQuery, n int) (from, to int, next string) {
	from, to = min(q.offset, n), min(q.offset+q.top, n)
	if to >= n {
		return from, to, ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	opts := []string{}
	if q.filter != "" {
		opts = append(opts, "$filter="+url.QueryEscape(q.filter))
	}
	if q.topGiven {
		opts = append(opts, "$top="+strconv.Itoa(q.top))
	}
	opts = append(opts, "$skiptoken="+url.QueryEscape(s.skipToken(r.URL.Path, q, to)))
	return from, to, scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + strings.Join(opts, "&")
}

// collection is an OData collection page.
type collection[T any] struct {
	NextLink string `json:"@odata.nextLink,omitempty"`
	Value    []T    `json:"value"`
}
