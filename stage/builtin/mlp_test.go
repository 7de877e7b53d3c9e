package builtin

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
)

// buildMLP looks the class up in the registry, builds it from params and
// runs Build on a fresh network of the given input shape.
func buildMLP(t *testing.T, class string, params stage.Params, inShape []int, last bool, outputSize int) (*engine.Network, stage.Info) {
	t.Helper()
	c, err := stage.Lookup(class)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.New(params)
	if err != nil {
		t.Fatal(err)
	}
	net := engine.NewNetwork(inShape)
	ctx := &stage.BuildContext{Net: net, Info: stage.Info{}, Last: last, OutputSize: outputSize, Rand: rand.New(rand.NewPCG(1, 2))}
	info, err := s.(stage.ModelStage).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return net, info
}

// layerSummary describes the layers as "dense(a→b)" and activation names.
func layerSummary(net *engine.Network) []string {
	var out []string
	for _, l := range net.Layers() {
		out = append(out, l.(interface{ String() string }).String())
	}
	return out
}

func TestMLPBrickLast(t *testing.T) {
	net, info := buildMLP(t, "mlp_brick", stage.Params{"width": 8, "length": 2, "activation": "tanh"}, []int{1, 2, 2}, true, 3)
	want := []string{"dense(4→8)", "tanh", "dense(8→8)", "tanh", "dense(8→3)"}
	if got := layerSummary(net); !slices.Equal(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if got := info["hidden_widths"]; !slices.Equal(got.([]int), []int{8, 8}) {
		t.Errorf("hidden_widths = %v, want [8 8]", got)
	}
	if got, want := info["nb_params_stage"], (4*8+8)+(8*8+8)+(8*3+3); got != want {
		t.Errorf("nb_params_stage = %v, want %d", got, want)
	}
	if got := net.Predict(make([]float32, 2*4), 2); len(got) != 2*3 {
		t.Errorf("prediction of 2 samples has %d values, want 6", len(got))
	}
}

func TestMLPNotLastEndsWithActivation(t *testing.T) {
	net, info := buildMLP(t, "mlp_funnel", stage.Params{"width": 10, "length": 2}, []int{5}, false, 2)
	want := []string{"dense(5→10)", "relu", "dense(10→6)", "relu"}
	if got := layerSummary(net); !slices.Equal(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if got, want := info["nb_params_stage"], (5*10+10)+(10*6+6); got != want {
		t.Errorf("nb_params_stage = %v, want %d", got, want)
	}
}

func TestMLPFunnelWidths(t *testing.T) {
	cases := []struct {
		width, length, out int
		want               []int
	}{
		{64, 3, 3, []int{64, 44, 24}},
		{64, 1, 3, []int{64}},
		{10, 4, 2, []int{10, 8, 6, 4}},
		{7, 5, 6, []int{7, 7, 7, 7, 7}},
		{2, 3, 5, []int{5, 5, 5}},
		{3, 4, 0, []int{3, 3, 2, 1}},
	}
	for _, c := range cases {
		m := &MLP{Class: "mlp_funnel", Funnel: true, Width: c.width, Length: c.length}
		if got := m.HiddenWidths(c.out); !slices.Equal(got, c.want) {
			t.Errorf("width %d, length %d, %d outputs: widths %v, want %v", c.width, c.length, c.out, got, c.want)
		}
	}
	brick := &MLP{Class: "mlp_brick", Width: 9, Length: 3}
	if got := brick.HiddenWidths(2); !slices.Equal(got, []int{9, 9, 9}) {
		t.Errorf("brick widths %v, want [9 9 9]", got)
	}
}

func TestMLPSameSeedSameWeights(t *testing.T) {
	params := stage.Params{"width": 6, "length": 2, "activation": "gelu"}
	a, _ := buildMLP(t, "mlp_funnel", params, []int{3}, true, 2)
	b, _ := buildMLP(t, "mlp_funnel", params, []int{3}, true, 2)
	wa, _ := a.MarshalBinary()
	wb, _ := b.MarshalBinary()
	if !slices.Equal(wa, wb) {
		t.Error("two builds from the same seed have different weights")
	}
}

func TestMLPRejectsBadParams(t *testing.T) {
	cases := []struct {
		params stage.Params
		want   string
	}{
		{stage.Params{"width": 0, "length": 2}, "invalid width 0"},
		{stage.Params{"width": 4, "length": -1}, "invalid length -1"},
		{stage.Params{"width": 4}, "parameter length"},
		{stage.Params{"width": 2.5, "length": 1}, "parameter width"},
		{stage.Params{"width": 4, "length": 1, "activation": "swish"}, `invalid activation "swish"`},
	}
	for _, c := range cases {
		_, err := NewMLP("mlp_brick", false, c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "mlp_brick: ") {
			t.Errorf("params %v: error %v, want one starting with mlp_brick: and containing %q", c.params, err, c.want)
		}
	}
}

func TestMLPComponentsRegistered(t *testing.T) {
	for _, class := range []string{"mlp_brick", "mlp_funnel"} {
		c, err := stage.Lookup(class)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != stage.KindModel || c.Label != nil {
			t.Errorf("%s: kind %q, label set %v; want model with no label", class, c.Kind, c.Label != nil)
		}
		p, ok := c.Param("activation")
		if !ok || p.Default != "relu" || !slices.Equal(p.Choices, engine.Activations()) {
			t.Errorf("%s: activation parameter %+v, want default relu and the engine's activations", class, p)
		}
		for _, name := range []string{"width", "length"} {
			if p, ok := c.Param(name); !ok || !p.Required || p.Type != stage.Int {
				t.Errorf("%s: parameter %s is %+v, want a required int", class, name, p)
			}
		}
	}
}
