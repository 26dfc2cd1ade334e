package events

import "testing"

func TestBusNeverBlocks(t *testing.T) {
	b := NewBus()
	ch, cancel := b.Subscribe(1)
	defer cancel()
	for i := 0; i < 10; i++ {
		b.Publish(Event{Kind: Ready})
	}
	if len(ch) != 1 {
		t.Fatalf("buffered %d events, want 1 (the rest dropped, never blocking)", len(ch))
	}
	if got := b.Dropped(ch); got != 9 {
		t.Errorf("Dropped = %d, want 9", got)
	}
}
