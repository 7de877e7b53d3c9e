package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mosaic-go/mosaic/result"
)

// BenchmarkSaveResults measures collect's write path: 10,000 results of 200
// epochs and 5 parameters each, saved into a new database per iteration.
// It reports results/s.
func BenchmarkSaveResults(b *testing.B) {
	const count, epochs = 10_000, 200
	results := make([]*result.Result, count)
	for i := range results {
		results[i] = newResult(fmt.Sprintf("run-%05d", i), fmt.Sprintf("pipe-%03d", i%100), epochs)
	}
	ctx := context.Background()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("bench-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		summary, err := s.SaveResults(ctx, results)
		if err != nil {
			b.Fatal(err)
		}
		if summary.Inserted != count {
			b.Fatalf("inserted %d results, want %d", summary.Inserted, count)
		}

		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(count*b.N)/b.Elapsed().Seconds(), "results/s")
}
