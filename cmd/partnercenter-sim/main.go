// Command partnercenter-sim serves a Partner Center simulator: the REST subset
// the multichannel operator uses, an Entra ID token endpoint, endpoints to act
// as the customer and as a source partner, fault injection and counters, with
// Microsoft Graph's GDAP subset and Azure Resource Manager's subscription
// aliases on the same listener. Point a Partner's spec.partnerCenter.endpoint
// and authorityHost (and its Graph and ARM endpoints) at it.
package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/partnerops/multichannel-operator/internal/graph/graphsim"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// credentialFlags collects repeated --client-credentials id:secret flags.
type credentialFlags map[string]string

func (c credentialFlags) String() string { return fmt.Sprintf("%d pairs", len(c)) }
func (c credentialFlags) Set(v string) error {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return errors.New("want CLIENT_ID:CLIENT_SECRET")
	}
	c[id] = secret
	return nil
}

// certificateFlags are --client-certificate values: application →
// registered certificates.
type certificateFlags map[string][]*x509.Certificate

func (c certificateFlags) String() string { return fmt.Sprintf("%d applications", len(c)) }
func (c certificateFlags) Set(v string) error {
	id, file, ok := strings.Cut(v, "=")
	if !ok || id == "" || file == "" {
		return fmt.Errorf("%q is not CLIENT_ID=PEM_FILE", v)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		c[id] = append(c[id], cert)
	}
	if len(c[id]) == 0 {
		return fmt.Errorf("%s holds no PEM certificate", file)
	}
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "partnercenter-sim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("partnercenter-sim", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: partnercenter-sim [flags]

Serves a Partner Center simulator, and Microsoft Graph's GDAP subset under
/v1.0/tenantRelationships (a Partner's graphEndpoint), with the same faults and
its state beside --state (NAME.graph.json), and Azure Resource Manager under
/providers/ (billing accounts, subscription aliases; its state is in --state).
Partner Center sells a small catalog of new-commerce products (the Azure plan
DZH318Z0BPS6:0001:DZH318Z0BML6, Microsoft 365 Business Basic, Business Premium,
E3, E5, Office 365 E5, Teams Phone Standard - Virtual User): read their current
availabilities before buying. A token is for the resource its scope names
(Partner Center, Graph, ARM) and is refused by the others. The same URL is a
Partner's endpoint and its authorityHost: tokens come from POST
/{tenant}/oauth2/v2.0/token, after GET /{tenant}/v2.0/.well-known/openid-configuration. Entra ID is https only, and
so is the operator's token library: serve TLS (--tls-cert-file and --tls-key-file,
or --self-signed-dir) and have the operator trust the certificate (SSL_CERT_FILE).

Acting as the other parties:
  POST /sim/v1/relationships/accept   {"partnerTenantId": "...", "customerTenantId": "..."}
  POST /sim/v1/relationships/decline  (same body): the customer's Global admin answers a request
  POST /sim/v1/transfers/{id}/accept  optional {"lineItems": [{"subscriptionId": "..."}]}: the source
                                      partner accepts (default: all its subscriptions with the customer)
  POST /sim/v1/transfers/{id}/reject  the source partner rejects (status Reject)
  POST /sim/v1/clock/advance          {"duration": "720h"}: move the simulator's clock
  GET  /sim/stats                     counters; GET /healthz
  POST /sim/graph/v1/relationships/{id}/approve    the customer approves a GDAP relationship
  POST /sim/graph/v1/relationships/{id}/terminate  the customer ends it
  POST /sim/graph/v1/clock/advance    move the Graph simulator's clock; GET /sim/graph/v1/stats

Flags:
`)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:8090", "Address to listen on.")
	statePath := fs.String("state", "", "File that holds the simulator's state, written atomically after every change so that it outlives a restart (default: in memory only).")
	autoApprove := fs.Duration("auto-approve-after", 0, "Customers accept reseller requests, and source partners accept transfers, this long after the request (0: never by themselves).")
	throttleRate := fs.Float64("throttle-rate", 0, "Share of API requests answered 429 Too Many Requests with Retry-After, from 0 to 1.")
	retryAfter := fs.Duration("retry-after", time.Second, "Retry-After of throttled responses (whole seconds).")
	errorRate := fs.Float64("error-rate", 0, "Share of API requests answered 503 Service Unavailable, from 0 to 1.")
	latency := fs.Duration("latency", 0, "Delay added to every API request.")
	holdCreates := fs.Duration("hold-creates", 0, "Hold the first attempt of every create (by MS-RequestId) this long before processing it, even if the caller gave up: a response that never comes.")
	provisioning := fs.Duration("provisioning-delay", 0, "Orders stay pending, without subscription IDs, this long on the simulator's clock after checkout, as Partner Center provisions asynchronously (0: completed at checkout).")
	skipRel := fs.Bool("skip-relationship-check", false, "Allow purchases and transfers before the customer accepted the partner's reseller request. Off (the default), they are refused with 403, as Partner Center refuses them.")
	tokenLifetime := fs.Duration("token-lifetime", time.Hour, "How long issued access tokens last.")
	armPolls := fs.Int("arm-provisioning-polls", 1, "Reads of a new Azure subscription alias that answer Accepted before it Succeeded.")
	certFile := fs.String("tls-cert-file", "", "PEM certificate to serve https with (with --tls-key-file).")
	keyFile := fs.String("tls-key-file", "", "PEM private key of --tls-cert-file.")
	selfSigned := fs.String("self-signed-dir", "", "Write a self-signed certificate for 127.0.0.1 and localhost (simulator.crt, simulator.key) to this directory and serve https with it.")
	appCerts := certificateFlags{}
	fs.Var(appCerts, "client-certificate", "CLIENT_ID=PEM_FILE: a certificate registered with that application, whose key may sign its client assertions; repeatable. No application has one otherwise.")
	creds := credentialFlags{}
	fs.Var(creds, "client-credentials", "CLIENT_ID:CLIENT_SECRET the token endpoint accepts; repeatable. Without it, any non-empty pair is accepted.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	for name, rate := range map[string]float64{"throttle-rate": *throttleRate, "error-rate": *errorRate} {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("--%s must be between 0 and 1", name)
		}
	}
	if *provisioning < 0 {
		return errors.New("--provisioning-delay must not be negative")
	}

	srv, err := sim.New(sim.Options{
		StatePath: *statePath, AutoApproveAfter: *autoApprove, ThrottleRate: *throttleRate, RetryAfter: *retryAfter,
		ErrorRate: *errorRate, Latency: *latency, HoldCreates: *holdCreates, ProvisioningDelay: *provisioning, Credentials: creds, TokenLifetime: *tokenLifetime, SkipRelationshipCheck: *skipRel,
		Certificates: appCerts, ARMProvisioningPolls: *armPolls,
	})
	if err != nil {
		return err
	}
	// Microsoft Graph's GDAP subset on the same listener, with the same faults;
	// its state sits beside the Partner Center state.
	graphState := ""
	if *statePath != "" {
		graphState = strings.TrimSuffix(*statePath, filepath.Ext(*statePath)) + ".graph.json"
	}
	graphSrv, err := graphsim.New(graphsim.Options{StatePath: graphState, AutoApproveAfter: *autoApprove, ThrottleRate: *throttleRate,
		RetryAfter: *retryAfter, ErrorRate: *errorRate, Latency: *latency})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: graphsim.Compose(graphSrv, srv), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdown)
	}()
	if *selfSigned != "" {
		if *certFile, *keyFile, err = sim.WriteLocalhostCertificate(*selfSigned); err != nil {
			return err
		}
	}
	scheme := "http"
	if *certFile != "" || *keyFile != "" {
		scheme = "https"
	}
	slog.Info("partner center simulator listening", "address", scheme+"://"+ln.Addr().String(), "certificate", *certFile, "state", *statePath, "autoApproveAfter", autoApprove.String())
	if scheme == "https" {
		err = httpSrv.ServeTLS(ln, *certFile, *keyFile)
	} else {
		err = httpSrv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(srv.Close(), graphSrv.Close())
}
