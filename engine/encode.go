package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// networkMagic starts every serialised set of network weights.
var networkMagic = [8]byte{'M', 'O', 'S', 'A', 'I', 'C', 'N', 'W'}

// networkVersion is the version of the weights format this build writes.
const networkVersion = 1

// ErrFormat is wrapped by the decoding errors of data that is not a MOSAIC
// state of a supported version: wrong magic, unknown version, truncated or
// with trailing bytes.
var ErrFormat = errors.New("invalid binary format")

// MarshalBinary encodes the weights: the magic "MOSAICNW", the format version
// (uint32), the number of tensors (uint32), then for each tensor its rank
// (uint32), its dimensions (uint32 each) and its values (float32), all
// little-endian. Buffers and gradients are not stored.
func (net *Network) MarshalBinary() ([]byte, error) {
	size := 8 + 4 + 4
	for _, p := range net.params {
		size += 4 + 4*len(p.Shape) + 4*len(p.Value)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, networkMagic[:]...)
	buf = binary.LittleEndian.AppendUint32(buf, networkVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(net.params)))
	for _, p := range net.params {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(p.Shape)))
		for _, d := range p.Shape {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(d))
		}
		buf = appendFloats(buf, p.Value)
	}
	return buf, nil
}

// UnmarshalBinary loads weights written by MarshalBinary into a network of
// the same architecture. Every tensor's shape must match, and on any error
// the network's weights are left unchanged.
func (net *Network) UnmarshalBinary(data []byte) error {
	r := &reader{data: data}
	if err := r.header(networkMagic, networkVersion); err != nil {
		return fmt.Errorf("decode network weights: %w", err)
	}
	count := int(r.uint32())
	if r.err == nil && count != len(net.params) {
		return fmt.Errorf("decode network weights: they have %d tensors, the network has %d", count, len(net.params))
	}

	values := make([][]float32, len(net.params))
	for i := 0; i < count && r.err == nil; i++ {
		p := net.params[i]
		rank := int(r.uint32())
		if r.err == nil && rank != len(p.Shape) {
			return fmt.Errorf("decode network weights: tensor %d (%s) has rank %d, the network expects %v", i, p.Name, rank, p.Shape)
		}
		shape := make([]int, len(p.Shape))
		for j := range shape {
			shape[j] = int(r.uint32())
		}
		if r.err == nil && !slices.Equal(shape, p.Shape) {
			return fmt.Errorf("decode network weights: tensor %d (%s) has shape %v, the network expects %v", i, p.Name, shape, p.Shape)
		}
		values[i] = r.floats(len(p.Value))
	}
	if err := r.finish(); err != nil {
		return fmt.Errorf("decode network weights: %w", err)
	}

	for i, p := range net.params {
		copy(p.Value, values[i])
	}
	return nil
}

func appendFloats(buf []byte, values []float32) []byte {
	for _, v := range values {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	return buf
}

// reader decodes little-endian values and remembers the first error, so a
// decoder checks r.err once per loop rather than after every value.
type reader struct {
	data []byte
	err  error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.data) < n {
		r.err = fmt.Errorf("%w: truncated, %d bytes left where %d were expected", ErrFormat, len(r.data), n)
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

func (r *reader) uint32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) uint64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *reader) floats(n int) []float32 {
	b := r.take(4 * n)
	if b == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func (r *reader) header(magic [8]byte, version uint32) error {
	b := r.take(8)
	if r.err != nil {
		return r.err
	}
	if [8]byte(b) != magic {
		return fmt.Errorf("%w: starts with %q, want %q", ErrFormat, b, magic[:])
	}
	if v := r.uint32(); r.err == nil && v != version {
		return fmt.Errorf("%w: version %d, this build reads version %d", ErrFormat, v, version)
	}
	return r.err
}

func (r *reader) finish() error {
	if r.err != nil {
		return r.err
	}
	if len(r.data) > 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrFormat, len(r.data))
	}
	return nil
}
