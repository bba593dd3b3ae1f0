package azurerm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/partnerops/multichannel-operator/internal/apiretry"
)

// ErrAliasNotFound: ARM knows no subscription alias of that name in the
// partner's tenant (GET answered 404). An alias never PUT, or PUT with
// another credential's tenant, is not found.
var ErrAliasNotFound = errors.New("azure resource manager: no such subscription alias")

// ErrNoPartnerAgreement: the partner's credential sees no billing account
// of agreement type MicrosoftPartnerAgreement, so there is no billing scope
// to create a customer's Azure subscription under.
var ErrNoPartnerAgreement = errors.New("azure resource manager: the partner has no Microsoft Partner Agreement billing account")

// Error is Azure Resource Manager's answer to a call that failed: its
// HTTP status and the code and message of its error body
// ({"error":{"code":...,"message":...}}). It wraps azcore's
// *azcore.ResponseError.
type Error struct {
	StatusCode int
	Code       string
	Message    string
	resp       *azcore.ResponseError
}

func (e *Error) Error() string {
	return fmt.Sprintf("azure resource manager answered %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Unwrap returns azcore's error, which holds the raw response.
func (e *Error) Unwrap() error { return e.resp }

// inProgressCodes are the codes of a 409 that says another operation is
// still running on the resource: the same request later may succeed.
var inProgressCodes = map[string]bool{"AnotherOperationInProgress": true, "OperationInProgress": true}

// IsRefused reports whether err is ARM refusing the request itself, so that
// sending it again unchanged cannot help: a 4xx other than 408 (timeout),
// 429 (throttled) and a 409 whose code says another operation is in
// progress. A 401 or 403 is a refusal too: the credential or its rights
// must change first. Transport errors, 5xx and the exceptions above are
// worth another try.
func IsRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode < 400 || e.StatusCode > 499 {
		return false
	}
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	case http.StatusConflict:
		return !inProgressCodes[e.Code]
	}
	return true
}

// armError turns azcore's *azcore.ResponseError into an *Error with the
// code and message of ARM's error body; other errors are returned as they
// are.
func armError(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	e := &Error{StatusCode: re.StatusCode, Code: re.ErrorCode, resp: re}
	if re.RawResponse == nil {
		return e
	}
	body, _ := runtime.Payload(re.RawResponse)
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		if b.Error.Code != "" {
			e.Code = b.Error.Code
		}
		e.Message = b.Error.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(re.StatusCode)
	}
	if re.StatusCode == http.StatusTooManyRequests {
		// Throttled: the caller waits what ARM asks before any call, as it
		// does for Partner Center and Graph.
		after, ok := apiretry.RetryAfter(re.RawResponse.Header.Get("Retry-After"), time.Now())
		if !ok {
			after = DefaultThrottledWait
		}
		return &apiretry.ThrottledError{Op: "Azure Resource Manager", After: max(after, apiretry.MinThrottledWait), Err: e}
	}
	return e
}

// DefaultThrottledWait is how long a 429 without Retry-After makes the
// caller wait.
const DefaultThrottledWait = 10 * time.Second
