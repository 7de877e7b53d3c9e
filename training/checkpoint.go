package training

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/mosaic-go/mosaic/result"
)

// Checkpoint is the full state of a run after a completed epoch: enough to
// continue training exactly as if it had not stopped.
type Checkpoint struct {
	// Epoch is the number of completed epochs.
	Epoch int
	// Curves has one entry per completed epoch.
	Curves result.Curves
	// Network holds the weights, as engine.Network.MarshalBinary writes them.
	Network []byte
	// Optimizer holds the Adam state, as engine.Adam.MarshalBinary writes it.
	Optimizer []byte
}

// checkpointMagic starts every checkpoint file.
var checkpointMagic = [8]byte{'M', 'O', 'S', 'A', 'I', 'C', 'C', 'K'}

// CheckpointVersion is the version of the checkpoint format this build
// writes and reads.
const CheckpointVersion = 1

// ErrCheckpointFormat is wrapped by ReadCheckpoint's errors for data that is
// not a checkpoint of CheckpointVersion.
var ErrCheckpointFormat = errors.New("invalid checkpoint")

// Write encodes the checkpoint in one Write call. The format is the magic
// "MOSAICCK", the version (uint32) and the epoch (uint32). The five curves
// follow in the order of result.Curves, each a uint32 count then float64
// values. The network and the optimiser state come last, each a uint64
// length then the bytes. All numbers are little-endian. Floats are
// stored bit for bit, NaN included.
func (cp *Checkpoint) Write(w io.Writer) error {
	buf := append([]byte(nil), checkpointMagic[:]...)
	buf = binary.LittleEndian.AppendUint32(buf, CheckpointVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(cp.Epoch))
	for _, curve := range curvesOf(&cp.Curves) {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(*curve)))
		for _, v := range *curve {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
	}
	for _, blob := range [][]byte{cp.Network, cp.Optimizer} {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(blob)))
		buf = append(buf, blob...)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write checkpoint of epoch %d: %w", cp.Epoch, err)
	}
	return nil
}

// ReadCheckpoint decodes a checkpoint written by Write.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	d := &decoder{data: data}
	magic := d.take(8)
	if d.err == nil && [8]byte(magic) != checkpointMagic {
		return nil, fmt.Errorf("%w: starts with %q, want %q", ErrCheckpointFormat, magic, checkpointMagic[:])
	}
	if version := d.uint32(); d.err == nil && version != CheckpointVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrCheckpointFormat, version, CheckpointVersion)
	}

	cp := &Checkpoint{Epoch: int(d.uint32())}
	for _, curve := range curvesOf(&cp.Curves) {
		count := int(d.uint32())
		raw := d.take(8 * count)
		if d.err != nil {
			break
		}
		if count > 0 {
			*curve = make([]float64, count)
		}
		for i := range *curve {
			(*curve)[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	}
	cp.Network = d.blob()
	cp.Optimizer = d.blob()
	if d.err == nil && len(d.data) > 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCheckpointFormat, len(d.data))
	}
	if d.err != nil {
		return nil, d.err
	}
	return cp, nil
}

func curvesOf(c *result.Curves) []*[]float64 {
	return []*[]float64{&c.TrainLoss, &c.TestLoss, &c.TrainAccuracy, &c.TestAccuracy, &c.EpochSeconds}
}

// decoder reads little-endian values and remembers the first error.
type decoder struct {
	data []byte
	err  error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.data) < n {
		d.err = fmt.Errorf("%w: truncated, %d bytes left where %d were expected", ErrCheckpointFormat, len(d.data), n)
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) uint32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) blob() []byte {
	b := d.take(8)
	if b == nil {
		return nil
	}
	length := binary.LittleEndian.Uint64(b)
	if length > uint64(len(d.data)) {
		d.err = fmt.Errorf("%w: truncated, %d bytes left where %d were expected", ErrCheckpointFormat, len(d.data), length)
		return nil
	}
	return append([]byte(nil), d.take(int(length))...)
}
