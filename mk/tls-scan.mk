# tls-scan.mk - `make tls-scan`: scan the daemon's TLS configuration with
# testssl.sh (scripts/tls-scan.sh) and fail on an old protocol, a cipher
# that is not forward-secret AEAD, insecure renegotiation or compression.
# It starts its own daemon on a free loopback port with a throwaway PKI;
# about a minute and a half.

.PHONY: tls-scan
tls-scan: $(BUILD)/disclosured
	@scripts/ensure-deps.sh tls-scan
	BUILD=$(BUILD) scripts/tls-scan.sh
