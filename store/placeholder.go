package store

// PLACEHOLDER: the store helper replaces this file with the real SQLite implementation.

import (
	"context"
	"errors"
	"time"
)

var errTodo = errors.New("store: not implemented")

type Store struct{ path string }

func Open(path string) (*Store, error)                        { return &Store{path: path}, nil }
func (s *Store) Close() error                                 { return nil }
func (s *Store) Path() string                                 { return s.path }
func (s *Store) Insert(ctx context.Context, c *Capture) error { return errTodo }
func (s *Store) SetResponse(ctx context.Context, id int64, status int, latency time.Duration) error {
	return errTodo
}
func (s *Store) Get(ctx context.Context, id int64) (*Capture, error)   { return nil, errTodo }
func (s *Store) List(ctx context.Context, f Filter) ([]Capture, error) { return nil, errTodo }
func (s *Store) Count(ctx context.Context, f Filter) (int, error)      { return 0, errTodo }
func (s *Store) Delete(ctx context.Context, ids ...int64) (int, error) { return 0, errTodo }
func (s *Store) Stats(ctx context.Context) (Stats, error)              { return Stats{}, errTodo }
func (s *Store) AddDelivery(ctx context.Context, d *Delivery) error    { return errTodo }
func (s *Store) UpdateDelivery(ctx context.Context, d *Delivery) error { return errTodo }
func (s *Store) Deliveries(ctx context.Context, captureID int64) ([]Delivery, error) {
	return nil, errTodo
}
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return nil, errTodo
}
func (s *Store) LastDeliveries(ctx context.Context, captureIDs []int64) (map[int64]Delivery, error) {
	return nil, errTodo
}
