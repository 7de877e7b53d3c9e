package manager

import (
	"fmt"
	"strconv"
	"strings"
)

// gpuPool hands out the devices of gpu_available, each to at most perGPU
// runs at a time. It is used by the dispatcher goroutine only.
type gpuPool struct {
	devices []string
	perGPU  int
	// inUse counts the runs holding each device.
	inUse map[string]int
}

// newGPUPool checks the device list and returns a pool over it. Every
// device must be a CUDA device with an index, such as cuda:1, because the
// index is what CUDA_VISIBLE_DEVICES takes.
func newGPUPool(devices []string, perGPU int) (*gpuPool, error) {
	if len(devices) == 0 {
		return nil, fmt.Errorf("need_gpu is True but gpu_available lists no device: list the devices runs may use, such as gpu_available = cuda:0, cuda:1")
	}
	if perGPU < 1 {
		return nil, fmt.Errorf("invalid runs per GPU %d: expected 1 or more", perGPU)
	}
	seen := map[int]string{}
	for _, d := range devices {
		index, err := cudaIndex(d)
		if err != nil {
			return nil, fmt.Errorf("gpu_available: %w", err)
		}
		if prev, dup := seen[index]; dup {
			return nil, fmt.Errorf("gpu_available: devices %s and %s are the same device %d", prev, d, index)
		}
		seen[index] = d
	}
	return &gpuPool{devices: devices, perGPU: perGPU, inUse: map[string]int{}}, nil
}

// capacity returns the number of runs the pool can serve at once.
func (p *gpuPool) capacity() int { return len(p.devices) * p.perGPU }

// acquire returns the least used device with room for one more run, and
// false when every device is full. Ties go to the device listed first.
func (p *gpuPool) acquire() (string, bool) {
	best := ""
	for _, d := range p.devices {
		if p.inUse[d] >= p.perGPU {
			continue
		}
		if best == "" || p.inUse[d] < p.inUse[best] {
			best = d
		}
	}
	if best == "" {
		return "", false
	}
	p.inUse[best]++
	return best, true
}

// release returns a device acquired before.
func (p *gpuPool) release(device string) {
	if p.inUse[device] > 0 {
		p.inUse[device]--
	}
}

// cudaIndex returns N of a device name "cuda:N".
func cudaIndex(device string) (int, error) {
	name, number, found := strings.Cut(device, ":")
	index, err := strconv.Atoi(number)
	if !found || !strings.EqualFold(name, "cuda") || err != nil || index < 0 {
		return 0, fmt.Errorf("invalid device %q: expected a CUDA device such as cuda:0, whose index CUDA_VISIBLE_DEVICES takes", device)
	}
	return index, nil
}

// visibleDevices returns the value of CUDA_VISIBLE_DEVICES for devices:
// their indices, comma-separated.
func visibleDevices(devices []string) string {
	indices := make([]string, 0, len(devices))
	for _, d := range devices {
		if index, err := cudaIndex(d); err == nil {
			indices = append(indices, strconv.Itoa(index))
		}
	}
	return strings.Join(indices, ",")
}
