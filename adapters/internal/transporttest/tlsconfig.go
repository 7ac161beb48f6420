package transporttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	stdnet "net"
	"testing"
	"time"
)

// TLSConfigs returns a server config holding a fresh self-signed ECDSA
// certificate for 127.0.0.1 and localhost, and a client config that trusts
// it (RootCAs). Nothing is read from files or the network.
func TLSConfigs(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	cert, pool := selfSigned(t, "gonetic test")
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool}
}

// UntrustedTLSConfig returns a client config that trusts only another,
// fresh certificate: a server of TLSConfigs is unknown to it.
func UntrustedTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	_, pool := selfSigned(t, "another authority")
	return &tls.Config{RootCAs: pool}
}

func selfSigned(t testing.TB, name string) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []stdnet.IP{stdnet.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TLSConfig returns one config that both serves and trusts a fresh
// self-signed certificate (TLSConfigs), for a transport that listens and
// dials itself.
func TLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	server, client := TLSConfigs(t)
	server.RootCAs = client.RootCAs
	return server
}

// CheckLeaks fails the test if, once its cleanups have run, more
// goroutines are left than when it started. Call it first, so that it runs
// after every other cleanup.
func CheckLeaks(t *testing.T) { checkLeaks(t) }
