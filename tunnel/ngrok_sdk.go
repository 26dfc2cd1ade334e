package tunnel

import (
	"context"
	"sync"

	"golang.ngrok.com/ngrok/v2"

	"github.com/s2s-dev/s2s/internal/version"
)

// realNgrok is the NgrokSDK seam over golang.ngrok.com/ngrok/v2.
type realNgrok struct {
	mu    sync.Mutex
	agent ngrok.Agent
}

func (r *realNgrok) Listen(ctx context.Context, cfg NgrokConfig) (NgrokEndpoint, error) {
	opts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(cfg.Authtoken),
		ngrok.WithLogger(cfg.Log),
		ngrok.WithClientInfo("s2s", version.Get().Version),
		ngrok.WithEventHandler(func(e ngrok.Event) {
			switch ev := e.(type) {
			case *ngrok.EventAgentDisconnected:
				if cfg.OnDisconnect != nil {
					cfg.OnDisconnect(ev.Error)
				}
			case *ngrok.EventAgentConnectSucceeded:
				if cfg.OnConnect != nil {
					cfg.OnConnect()
				}
			}
		}),
	}
	if cfg.ConnectURL != "" {
		opts = append(opts, ngrok.WithAgentConnectURL(cfg.ConnectURL))
	}
	agent, err := ngrok.NewAgent(opts...)
	if err != nil {
		return nil, err
	}
	var eopts []ngrok.EndpointOption
	if cfg.URL != "" {
		eopts = append(eopts, ngrok.WithURL(cfg.URL))
	}
	l, err := agent.Listen(ctx, eopts...)
	if err != nil {
		_ = agent.Disconnect() // closing anyway
		return nil, err
	}
	r.mu.Lock()
	r.agent = agent
	r.mu.Unlock()
	return l, nil
}

func (r *realNgrok) Disconnect() error {
	r.mu.Lock()
	a := r.agent
	r.mu.Unlock()
	if a == nil {
		return nil
	}
	return a.Disconnect()
}
