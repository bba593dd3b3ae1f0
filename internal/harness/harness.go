// Package harness runs the operator as it runs in production, for make chaos
// and its tests: a real kube-apiserver and etcd, the Partner Center simulator
// binary over HTTP with its state file, and the manager binary as a process
// that can be killed. It declares a workload of subscriptions over every path
// that buys or transfers, and checks what the simulator created against it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/partnerops/multichannel-operator/api/v1alpha1"
	"github.com/partnerops/multichannel-operator/internal/install"
	"github.com/partnerops/multichannel-operator/internal/partnercenter/sim"
)

// OperatorNamespace is where the harness puts the Partners' Secret.
const OperatorNamespace = "multichannel-system"

// Root finds the module's root directory from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binaries are the programs the harness runs, built from this checkout.
type Binaries struct {
	Manager, Simulator string
}

// Build compiles the manager and the simulator into dir.
func Build(ctx context.Context, root, dir string) (Binaries, error) {
	b := Binaries{Manager: filepath.Join(dir, "manager"), Simulator: filepath.Join(dir, "partnercenter-sim")}
	for out, pkg := range map[string]string{b.Manager: ".", b.Simulator: "./cmd/partnercenter-sim"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("building %s: %w: %s", pkg, err, msg)
		}
	}
	return b, nil
}

// Cluster is a kube-apiserver and etcd with the CRDs, the admission check and
// the roles installed.
type Cluster struct {
	Env        *envtest.Environment
	Config     *rest.Config
	Client     client.Client
	Kubeconfig string
}

// Scheme knows the core kinds and this API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// StartCluster starts the control plane with etcd's data under dir.
func StartCluster(ctx context.Context, root, dir string) (*Cluster, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run through make, which builds kube-apiserver and etcd first")
	}
	// kube-apiserver's certificates live in a directory of the run's own, so
	// that a restarted kube-apiserver serves the same ones and clients trust it.
	certDir := filepath.Join(dir, "kube-apiserver")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		ControlPlane: envtest.ControlPlane{Etcd: &envtest.Etcd{DataDir: filepath.Join(dir, "etcd")},
			APIServer: &envtest.APIServer{CertDir: certDir}},
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	c := &Cluster{Env: env, Config: cfg}
	if c.Client, err = client.New(cfg, client.Options{Scheme: Scheme()}); err != nil {
		return nil, err
	}
	objs, err := install.Objects()
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if err := c.Client.Create(ctx, o); err != nil {
			return nil, fmt.Errorf("installing %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	admin, err := env.AddUser(envtest.User{Name: "harness-admin", Groups: []string{"system:masters"}}, &rest.Config{})
	if err != nil {
		return nil, err
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	return c, os.WriteFile(c.Kubeconfig, data, 0o600)
}

// RestartAPIServer kills kube-apiserver with SIGKILL, as a crash would (a
// graceful stop waits for the operator's watches to drain, up to their
// half-hour timeout), and starts it again on the same address; etcd and its
// data stay.
func (c *Cluster) RestartAPIServer() error {
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		return err
	}
	pid, err := findProcess("kube-apiserver", "--secure-port="+u.Port())
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing kube-apiserver: %w", err)
	}
	api := c.Env.ControlPlane.APIServer
	_ = api.Stop() // reaps the killed process
	if err := api.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// findProcess returns the PID of the process whose command line holds every word.
func findProcess(words ...string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd, all := strings.ReplaceAll(string(cmdline), "\x00", " "), true
		for _, w := range words {
			all = all && strings.Contains(cmd, w)
		}
		if all {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process runs with %v", words)
}

// Stop stops the control plane.
func (c *Cluster) Stop() error { return c.Env.Stop() }

// Process is a program the harness starts, kills and starts again.
type Process struct {
	Name string
	Bin  string
	Args []string
	Env  []string
	Log  string // file its output is appended to

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	starts int
}

// Start starts the process.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	logFile, err := os.OpenFile(p.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	p.starts++
	go func(done chan struct{}) {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
	}(p.done)
	return nil
}

// Kill sends SIGKILL, as a node losing power would, and waits for the exit.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for the exit.
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// PID is the process's ID, or 0 when it was never started.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running says whether the process has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Output is what the process wrote to its log so far.
func (p *Process) Output() string {
	data, _ := os.ReadFile(p.Log)
	return string(data)
}

// FreeAddress returns a loopback address nobody listens on.
func FreeAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// SimulatorOptions are the simulator's flags the scenarios vary.
type SimulatorOptions struct {
	AutoApproveAfter time.Duration
	ThrottleRate     float64
	RetryAfter       time.Duration
	ErrorRate        float64
	Latency          time.Duration
	// ProvisioningDelay keeps orders pending this long after checkout
	// (the simulator's --provisioning-delay); zero provisions at checkout.
	ProvisioningDelay time.Duration
	// InMemory keeps the simulator's state in memory only: no state file
	// rewritten after every change, so the simulator costs a benchmark
	// little; it does not outlive a restart.
	InMemory bool
}

// StartSimulator starts the simulator on a free loopback address, over
// TLS as Entra ID's token service is: its self-signed certificate is
// written to dir and trusted by this process and by the managers started
// with dir (SSL_CERT_FILE). It waits until the simulator answers and
// returns it with its URL.
func StartSimulator(ctx context.Context, bin, dir string, o SimulatorOptions) (*Process, string, error) {
	addr, err := FreeAddress()
	if err != nil {
		return nil, "", err
	}
	certFile, keyFile, err := sim.WriteLocalhostCertificate(dir)
	if err != nil {
		return nil, "", err
	}
	if err := sim.Trust(certFile); err != nil {
		return nil, "", err
	}
	p := NewSimulator(bin, dir, addr, o)
	p.Args = append(p.Args, "--tls-cert-file", certFile, "--tls-key-file", keyFile)
	if err := p.Start(); err != nil {
		return nil, "", err
	}
	simURL := "https://" + addr
	if err := WaitHTTP(ctx, simURL+"/healthz", 30*time.Second); err != nil {
		p.Stop()
		return nil, "", err
	}
	return p, simURL, nil
}

// NewSimulator describes the simulator process on addr with its state in
// dir, over plain HTTP; StartSimulator serves it over TLS.
func NewSimulator(bin, dir, addr string, o SimulatorOptions) *Process {
	args := []string{"--listen", addr}
	if !o.InMemory {
		args = append(args, "--state", filepath.Join(dir, "partnercenter.json"))
	}
	args = append(args, "--auto-approve-after", o.AutoApproveAfter.String())
	if o.ThrottleRate > 0 {
		args = append(args, "--throttle-rate", strconv.FormatFloat(o.ThrottleRate, 'f', -1, 64), "--retry-after", o.RetryAfter.String())
	}
	if o.ErrorRate > 0 {
		args = append(args, "--error-rate", strconv.FormatFloat(o.ErrorRate, 'f', -1, 64))
	}
	if o.Latency > 0 {
		args = append(args, "--latency", o.Latency.String())
	}
	if o.ProvisioningDelay > 0 {
		args = append(args, "--provisioning-delay", o.ProvisioningDelay.String())
	}
	return &Process{Name: "partnercenter-sim", Bin: bin, Args: args, Log: filepath.Join(dir, "partnercenter-sim.log")}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v: %w", url, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// NewManager describes a manager process named name talking to the cluster
// and allowed to reach the simulator.
func NewManager(bin, dir, name string, c *Cluster, simURL string, leaderElect bool) *Process {
	return NewManagerWith(bin, dir, name, c, simURL, ManagerOptions{LeaderElect: leaderElect})
}

// ManagerOptions are the manager's flags a run varies.
type ManagerOptions struct {
	LeaderElect bool
	// PollInterval and MaxRequeue: the manager's flags; zero: 500ms and 2s.
	PollInterval, MaxRequeue time.Duration
	// ActivityLogInterval is the manager's --activity-log-interval; zero
	// reads no activity log, and objects poll every PollInterval.
	ActivityLogInterval time.Duration
	// MetricsAddress, when set, serves the manager's metrics over plain
	// HTTP on this loopback address; empty: no metrics endpoint.
	MetricsAddress string
	// Args are further flags, appended last.
	Args []string
	// Env is further environment, such as GOMEMLIMIT.
	Env []string
}

// NewManagerWith describes a manager process with options.
func NewManagerWith(bin, dir, name string, c *Cluster, simURL string, o ManagerOptions) *Process {
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.MaxRequeue <= 0 {
		o.MaxRequeue = 2 * time.Second
	}
	metrics := []string{"--metrics-bind-address", "0"}
	if o.MetricsAddress != "" {
		metrics = []string{"--metrics-bind-address", o.MetricsAddress, "--metrics-secure=false"}
	}
	args := append([]string{"--operator-namespace", OperatorNamespace, "--allowed-origins", simURL,
		"--poll-interval", o.PollInterval.String(), "--max-requeue", o.MaxRequeue.String(),
		"--activity-log-interval", o.ActivityLogInterval.String()},
		append(metrics, "--health-probe-bind-address", "0")...)
	if o.LeaderElect {
		args = append(args, "--leader-elect")
	}
	args = append(args, o.Args...)
	env := []string{"KUBECONFIG=" + c.Kubeconfig}
	if cert := filepath.Join(dir, "simulator.crt"); fileExists(cert) {
		env = append(env, "SSL_CERT_FILE="+cert) // StartSimulator's certificate
	}
	return &Process{Name: name, Bin: bin, Args: args, Env: append(env, o.Env...),
		Log: filepath.Join(dir, name+".log")}
}

// credentialsSecret is the Secret the workload's Partner names.
func credentialsSecret() *corev1.Secret {
	s := &corev1.Secret{StringData: map[string]string{
		v1alpha1.SecretKeyClientID: "harness", v1alpha1.SecretKeyClientSecret: "harness-secret", v1alpha1.SecretKeyRefreshToken: "harness-refresh"}}
	s.Namespace, s.Name = OperatorNamespace, "contoso-partner-center"
	return s
}

// logTail returns the last n bytes of s.
func logTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
