# s2s: make build | test | fmt | vet | lint | bench | bench-compare | bench-listen | fuzz | ci
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG     := github.com/s2s-dev/s2s/internal/version
BIN     ?= s2s
LDFLAGS := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)

.PHONY: build install test race fmt vet lint tidy bench fuzz ci clean

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

install:
	CGO_ENABLED=0 go install -trimpath -ldflags '$(LDFLAGS)' .

test:
	go test ./...

race:
	go test -race ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	go vet ./...

# The pinned golangci-lint (.ci/run installs it when missing) with .golangci.yml.
lint:
	golangci-lint run ./...

tidy:
	go mod tidy

bench:
	go test -run '^$$' -bench . -benchmem ./...

# Executions rather than a duration: a duration can end in a spurious "context deadline exceeded"
# on Go 1.26 (golang/go#75804). Override for longer runs: make fuzz FUZZTIME=2000000x
FUZZTIME ?= 300000x

fuzz:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

ci:
	bash .ci/run

clean:
	rm -f s2s

# Side by side with Apple's Node library on distinct notifications, in one run (needs node and
# npm; installs the library into the user cache on first use). Not part of go test ./...
.PHONY: bench-compare bench-listen
bench-compare:
	go run ./bench/compare decode

bench-listen:
	go run ./bench/compare listen
