// Command scep-verifier drives micromdm's SCEP library (Debian: golang-github-micromdm-scep-dev)
// against a running Openroll, so the tests check Openroll's CMS with a verifier that decodes and
// re-encodes what it receives (Go's pkcs7), not only with code that reads the bytes as sent.
//
//	scep-verifier enroll -url http://127.0.0.1:PORT/mdm/apple/ORG/scep -challenge C
//	    GetCACert, then a PKCSReq built by the library (AES-128-CBC), then the CertRep through
//	    scep.ParsePKIMessage (signature verified) and, on SUCCESS, DecryptPKIEnvelope.
//	scep-verifier verify-signed < signed.der
//	    pkcs7.Parse and Verify of any SignedData (a signed profile).
//
// It prints one JSON object on stdout and exits 1 on any failure, with the reason on stderr.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"time"

	"github.com/micromdm/scep/v2/cryptoutil/x509util"
	"github.com/micromdm/scep/v2/scep"
	"go.mozilla.org/pkcs7"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: scep-verifier enroll|verify-signed"))
	}
	var result interface{}
	var err error
	switch os.Args[1] {
	case "enroll":
		flags := flag.NewFlagSet("enroll", flag.ExitOnError)
		url := flags.String("url", "", "the organization's SCEP URL")
		challenge := flags.String("challenge", "", "the challenge password from the profile")
		_ = flags.Parse(os.Args[2:])
		result, err = enroll(*url, *challenge)
	case "verify-signed":
		result, err = verifySigned(os.Stdin)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func get(url string) ([]byte, error) {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, nil
}

type enrollResult struct {
	PKIStatus          string `json:"pkiStatus"`
	FailInfo           string `json:"failInfo,omitempty"`
	TransactionIDEqual bool   `json:"transactionIdEqual"`
	RecipientNonceOK   bool   `json:"recipientNonceEqualsSenderNonce"`
	SignerIsCA         bool   `json:"signerIsCa"`
	SerialNumber       string `json:"serialNumber,omitempty"`
	Subject            string `json:"subject,omitempty"`
	IssuedByCA         bool   `json:"issuedByCa,omitempty"`
	KeyMatches         bool   `json:"keyMatches,omitempty"`
}

func enroll(url, challenge string) (*enrollResult, error) {
	caDer, err := get(url + "?operation=GetCACert")
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDer)
	if err != nil {
		return nil, fmt.Errorf("GetCACert: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: "micromdm scep client"}
	csrDer, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: subject, SignatureAlgorithm: x509.SHA256WithRSA},
		ChallengePassword:  challenge,
	}, key)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(csrDer)
	if err != nil {
		return nil, err
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	selfDer, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	self, err := x509.ParseCertificate(selfDer)
	if err != nil {
		return nil, err
	}
	// The library's default is single DES, which Openroll rightly refuses.
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES128CBC
	request, err := scep.NewCSRRequest(csr, &scep.PKIMessage{
		MessageType: scep.PKCSReq,
		Recipients:  []*x509.Certificate{ca},
		SignerKey:   key,
		SignerCert:  self,
	})
	if err != nil {
		return nil, err
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(url+"?operation=PKIOperation", "application/x-pki-message", bytes.NewReader(request.Raw))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("PKIOperation: %d %s", resp.StatusCode, body)
	}
	// Verifies the CertRep's signature over the signed attributes as the library re-encodes them.
	reply, err := scep.ParsePKIMessage(body)
	if err != nil {
		return nil, fmt.Errorf("ParsePKIMessage: %w", err)
	}
	if reply.MessageType != scep.CertRep || reply.CertRepMessage == nil {
		return nil, fmt.Errorf("not a CertRep: %s", reply.MessageType)
	}
	out := &enrollResult{
		PKIStatus:          string(reply.PKIStatus),
		FailInfo:           string(reply.FailInfo),
		TransactionIDEqual: reply.TransactionID == request.TransactionID,
		RecipientNonceOK:   bytes.Equal(reply.RecipientNonce, request.SenderNonce),
		SignerIsCA:         reply.SignerCert == nil || bytes.Equal(reply.SignerCert.Raw, ca.Raw),
	}
	p7, err := pkcs7.Parse(body)
	if err != nil {
		return nil, err
	}
	if signer := p7.GetOnlySigner(); signer != nil {
		out.SignerIsCA = bytes.Equal(signer.Raw, ca.Raw)
	}
	if reply.PKIStatus != scep.SUCCESS {
		return out, nil
	}
	if err := reply.DecryptPKIEnvelope(self, key); err != nil {
		return nil, fmt.Errorf("DecryptPKIEnvelope: %w", err)
	}
	issued := reply.CertRepMessage.Certificate
	if issued == nil {
		return nil, errors.New("SUCCESS without a certificate")
	}
	issuedKey, ok := issued.PublicKey.(*rsa.PublicKey)
	out.KeyMatches = ok && issuedKey.Equal(&key.PublicKey)
	out.IssuedByCA = issued.CheckSignatureFrom(ca) == nil
	out.SerialNumber = hex.EncodeToString(issued.SerialNumber.Bytes())
	out.Subject = issued.Subject.String()
	return out, nil
}

type signedResult struct {
	ContentSHA256 string `json:"contentSha256"`
	Signer        string `json:"signer"`
}

func verifySigned(input io.Reader) (*signedResult, error) {
	der, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("pkcs7.Parse: %w", err)
	}
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("pkcs7.Verify: %w", err)
	}
	sum := sha256.Sum256(p7.Content)
	signer := ""
	if cert := p7.GetOnlySigner(); cert != nil {
		signer = cert.Subject.String()
	}
	return &signedResult{ContentSHA256: hex.EncodeToString(sum[:]), Signer: signer}, nil
}
