package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// WriteLocalhostCertificate writes a self-signed certificate for 127.0.0.1,
// ::1 and localhost, valid for a year, and its key, as PEM files in dir, for
// serving the simulator over TLS: Entra ID's token service is https only,
// and so is the library the operator gets its tokens with. Whoever talks to
// the simulator trusts certFile (SSL_CERT_FILE, curl --cacert).
func WriteLocalhostCertificate(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "partnercenter-sim"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "simulator.crt"), filepath.Join(dir, "simulator.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// Trust adds the PEM certificate in file to what http.DefaultTransport
// trusts, for a process that talks to a simulator serving it (make dev,
// the benchmarks); another process is given SSL_CERT_FILE.
func Trust(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && block.Type == "CERTIFICATE" {
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		return fmt.Errorf("%s holds no PEM certificate", file)
	}
	TrustCertificates(certs...)
	return nil
}

// TrustCertificates adds certs to what http.DefaultTransport trusts, beside
// the system's roots.
func TrustCertificates(certs ...*x509.Certificate) {
	t := http.DefaultTransport.(*http.Transport)
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	pool := t.TLSClientConfig.RootCAs
	if pool == nil {
		if pool, _ = x509.SystemCertPool(); pool == nil {
			pool = x509.NewCertPool()
		}
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	t.TLSClientConfig.RootCAs = pool
}
