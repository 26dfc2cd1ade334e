// Package probe simulates Apple's delivery of an App Store Server Notification to a URL and says,
// in Apple's sendAttemptResult vocabulary, what Apple would record.
//
// One attempt runs these steps, each reported with its status, timing, detail and fix:
//
//   - URL form: https, a host, port 443 (another port is a warning: Apple documents none), a path,
//     and the usual paste mistakes (no scheme, whitespace, a fragment, a template placeholder).
//   - DNS, then TCP connect. A loopback, private or otherwise non-public address is a warning:
//     Apple cannot reach it, but a developer's local receiver can still be probed.
//   - TLS handshake restricted to App Transport Security: TLS 1.2 or 1.3, and with TLS 1.2 only
//     ECDHE suites with AES-GCM or AES-CBC. When it fails, a permissive handshake finds out what
//     the server offers (TLS 1.1, a suite without forward secrecy, plain HTTP) to explain why.
//   - The certificate: chain to a trusted root (the system's, plus --ca with a warning), valid for
//     the host, in date (a warning under 30 days), SHA-256 or better signatures, RSA ≥ 2048 or
//     EC ≥ 256 bits.
//   - A POST of the body with Content-Type application/json; redirects are not followed for the
//     verdict, and the answer must have a status in 200-206 within the timeout.
//
// Apple documents what each sendAttemptResult means but not what triggers it. Their names mirror the
// exceptions of Java HTTP clients, which guides this mapping (an inference, not Apple's word):
//
//	SUCCESS                          a status in 200-206, whose charset (if any) is known
//	TIMED_OUT                        no complete answer (or connection, or handshake) within the timeout
//	TLS_ISSUE                        an http:// URL, plain HTTP or no TLS on the port, TLS below 1.2,
//	                                 no ATS cipher suite, any certificate failure, a TLS alert
//	CIRCULAR_REDIRECT                a redirect chain that revisits a URL or exceeds 10 hops
//	UNSUCCESSFUL_HTTP_RESPONSE_CODE  any other status, including a single redirect (Apple does not
//	                                 document following redirects; the probe names the final URL)
//	NO_RESPONSE                      the server answered with bytes that are not HTTP at all
//	INVALID_RESPONSE                 an answer that starts as HTTP but breaks the protocol
//	                                 (bad status line or header, bad chunked framing)
//	PREMATURE_CLOSE                  the connection closed (cleanly) before a complete answer: while
//	                                 the request was being sent, before the status line, or before
//	                                 the end of the announced body
//	SOCKET_ISSUE                     no such host, DNS failure, connection refused, reset or unreachable
//	UNSUPPORTED_CHARSET              a 2xx answer declaring a charset no registry knows (a registered
//	                                 charset outside the six every Java runtime has is a warning)
//	OTHER                            an unusable URL (no scheme, no host, whitespace), or an interrupt
//
// Retries (Options.Retries) repeat the attempt after NO_RESPONSE, SOCKET_ISSUE, TIMED_OUT or a 5xx.
package probe
