package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/hub"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

func newHubCmd(f *Factory, runF func(*listenOptions) error) *cobra.Command {
	o := &listenOptions{f: f, hubServe: &hubServeOptions{}}
	c := &cobra.Command{
		Use:   "hub",
		Short: "One sandbox notification URL for a whole team, shared over NATS JetStream",
		Long: `Run the receiver of s2s listen (durable capture before the answer, verification, labels,
every limit) and publish each capture, raw body byte for byte with its headers, to a NATS
JetStream stream. Teammates run "s2s listen --hub URL --name NAME --hub-filter EXPR" and each get
the notifications their filter selects, with their own store, UI and forwarding.

Publishing is an outbox: a capture is answered once it is in the hub's store, then published
until JetStream acknowledges it; what a crash left unpublished is published at the next start.

By default s2s hub starts an embedded NATS server with JetStream (file storage beside the
store) on --nats-listen, protected by a token (in the URL it prints for teammates) or NKeys
(--nats-auth nkey), over TLS with --nats-cert and --nats-key. --nats URL uses an existing NATS
server or cluster instead (see docs/hub.md).

Whoever holds a shared token or a shared key (--nats-auth nkey) reads every notification and can
also pull from, acknowledge for and reconfigure any teammate's consumer. Give each teammate their
own key, bound to their --name (--nats-auth nkey:alice=PUBKEY,bob=PUBKEY), and a key can use its
own consumer only.`,
		Example: `  # The team's hub, on a public URL through a tunnel
  s2s hub --tunnel ssh --nats-listen 0.0.0.0:4222

  # A developer's listener: only their app's notifications
  s2s listen --hub nats://TOKEN@hub.local:4222 --name alice --hub-filter bundle:com.example.a

  # A key per teammate, each bound to their --name (s2s hub nkey FILE makes one)
  s2s hub --nats-listen 0.0.0.0:4222 --nats-auth nkey:alice=UAB…,bob=UCD… --nats-cert hub.pem --nats-key hub-key.pem
  s2s listen --hub tls://hub.example.com:4222 --hub-nkey alice.nk --name alice

  # NKey authentication and TLS: teammates share the seed file and trust the certificate
  s2s hub --nats-listen 0.0.0.0:4222 --nats-auth nkey --nats-cert hub.pem --nats-key hub-key.pem
  s2s listen --hub tls://hub.example.com:4222 --hub-nkey hub-nkey.seed --hub-ca dev-ca.pem --name alice

  # Stream, consumers and their lag, and the outbox
  s2s hub status`,
		Args: o.tunnelArgs("hub"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runListen(cmd.Context(), o)
		},
	}
	o.addReceiverFlags(c)
	o.Connect.addFlags(c.Flags())
	o.hubServe.addFlags(c.Flags())
	c.AddCommand(newHubStatusCmd(f, nil), newHubNKeyCmd(f))
	return c
}

func newHubNKeyCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "nkey FILE",
		Short: "Make a user NKey: its seed in FILE, readable by you only, its public key on stdout",
		Long: `Make a new user NKey for a hub with NKey authentication. The seed (the secret) goes to FILE,
which must not exist, readable by its owner only; the public key (not a secret) is printed on
stdout. Give the public key to whoever runs the hub (s2s hub --nats-auth nkey:NAME=PUBKEY,...,
which binds it to the consumer NAME), keep the seed, and run s2s listen --hub URL --hub-nkey FILE
--name NAME.`,
		Example: `  s2s hub nkey ~/.config/s2s/hub.nk
  s2s listen --hub tls://hub.example.com:4222 --hub-nkey ~/.config/s2s/hub.nk --name alice`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if err := hub.WriteUserSeed(path); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("%s exists: s2s hub nkey never overwrites a seed (choose another FILE)", path)
				}
				return err
			}
			kp, err := hub.ReadUserSeed(path)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, hub.PublicKey(kp))
			return nil
		},
	}
}

type hubStatusOptions struct {
	f         *Factory
	StorePath string
	NatsURL   string
	NKeyFile  string
	CAFile    string
	JSON      bool
}

func newHubStatusCmd(f *Factory, runF func(*hubStatusOptions) error) *cobra.Command {
	o := &hubStatusOptions{f: f}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the hub's stream, its consumers and their lag, and the outbox",
		Long: `Show the hub's JetStream stream (messages, bytes, retention), each listener's durable
consumer with its lag (messages it has not acknowledged yet), and how many captures wait in the
hub's outbox. The hub is found through its store (--store), or --nats URL. It also shows what
teammates pass to s2s listen --hub, as the hub recorded it: the URL (with the hub's token, if it
has one: the hub's own store holds it anyway), the shared NKey seed file, the certificate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runHubStatus(cmd.Context(), o)
		},
	}
	c.Flags().StringVar(&o.StorePath, "store", "", "the hub's capture database (default $S2S_STORE or the default store)")
	c.Flags().StringVar(&o.NatsURL, "nats", "", "the NATS URL (with credentials), instead of the one the hub's store records")
	c.Flags().StringVar(&o.NKeyFile, "nats-nkey", "", "authenticate with the user NKey seed in this `FILE` (default: the hub's own, as its store records)")
	c.Flags().StringVar(&o.CAFile, "nats-ca", "", "trust the certificate authorities in this PEM `FILE` too (default: the hub's --nats-cert or --nats-ca, as its store records)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object")
	return c
}

// hubStatusReport is hub status's JSON.
type hubStatusReport struct {
	hub.Status
	Outbox int `json:"outbox"`
	// What teammates pass to s2s listen --hub, as the hub recorded it at its start: the URL (with
	// the embedded server's token, as the hub prints it), --hub-nkey's shared seed file and
	// --hub-ca's self-signed certificate.
	TeammateURL      string `json:"teammateUrl,omitempty"`
	TeammateNKeyFile string `json:"teammateNkeyFile,omitempty"`
	TeammateCAFile   string `json:"teammateCaFile,omitempty"`
}

func runHubStatus(ctx context.Context, o *hubStatusOptions) error {
	f := o.f
	storePath := captureStorePath(f, o.StorePath)
	st, err := openExistingStore(storePath)
	if errors.Is(err, errNoStore) {
		return fmt.Errorf("there is no store at %s: s2s hub status reads the hub's store (--store) for its URL and outbox", storePath)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	url, nkeyFile, caFile := o.NatsURL, o.NKeyFile, o.CAFile
	if url == "" {
		// The hub recorded its URL and what connecting to it takes (file paths, no secret).
		meta := map[string]*string{"url": &url}
		if nkeyFile == "" {
			meta["nkey-file"] = &nkeyFile
		}
		if caFile == "" {
			meta["ca-file"] = &caFile
		}
		for k, v := range meta {
			if *v, err = st.HubMetaValue(ctx, k); err != nil {
				return err
			}
		}
		if url == "" {
			return fmt.Errorf("%s holds no hub: start s2s hub with this store, or pass --nats URL", storePath)
		}
	}
	creds, err := clientCredentials("--nats-nkey", nkeyFile, "--nats-ca", caFile)
	if err != nil {
		return err
	}
	outbox, err := st.HubPendingCount(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	nc, js, err := hub.Connect(ctx, url, "s2s hub status", creds.Options()...)
	if err != nil {
		if errors.Is(err, hub.ErrAuth) || errors.Is(err, hub.ErrUntrusted) {
			return hubConnectError(err, creds, "--nats-nkey", nkeyFile, "--nats-ca")
		}
		return fmt.Errorf("%w (is s2s hub running?)", err)
	}
	defer nc.Close()
	status, err := hub.StreamStatus(ctx, js, "")
	if err != nil {
		return err
	}
	r := hubStatusReport{Status: status, Outbox: outbox}
	for k, v := range map[string]*string{"teammate-url": &r.TeammateURL, "teammate-nkey-file": &r.TeammateNKeyFile, "teammate-ca-file": &r.TeammateCAFile} {
		if *v, err = st.HubMetaValue(ctx, k); err != nil {
			return err
		}
	}
	if o.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	out := f.IO.Out
	fmt.Fprintf(out, "Stream   %s: %d messages, %d bytes, kept %s, %d replica(s)\n", r.Stream, r.Messages, r.Bytes, r.MaxAge, r.Replicas)
	fmt.Fprintf(out, "Outbox   %d capture(s) stored, not yet acknowledged by JetStream\n", r.Outbox)
	if r.TeammateURL != "" {
		fmt.Fprintf(out, "URL      %s (teammates pass it to s2s listen --hub; it carries the hub's token, if any: share it privately)\n", termsafe.String(r.TeammateURL))
	}
	if r.TeammateNKeyFile != "" {
		fmt.Fprintf(out, "NKey     %s (the seed teammates pass to --hub-nkey; a secret)\n", termsafe.String(r.TeammateNKeyFile))
	}
	if r.TeammateCAFile != "" {
		fmt.Fprintf(out, "CA       %s (the certificate teammates trust with --hub-ca)\n", termsafe.String(r.TeammateCAFile))
	}
	if len(r.Consumers) == 0 {
		fmt.Fprintln(out, "No listener has consumed yet (s2s listen --hub URL --name NAME).")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tLAG\tUNDELIVERED\tUNACKNOWLEDGED\tREDELIVERED\tACKNOWLEDGED UP TO")
	for _, c := range r.Consumers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", termsafe.String(c.Name), c.Lag(), c.Pending, c.AckPending, c.Redelivered, c.AckFloor)
	}
	return tw.Flush()
}
