//go:build amd64 && !purego

#include "textflag.h"

// func reluForwardAVX2(n int, in, out *float32)
//
// out = in AND (in > 0), eight values at a time. The ordered comparison is
// false for NaN, so NaN gives 0 as in the Go loop.
TEXT ·reluForwardAVX2(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ in+8(FP), SI
	MOVQ out+16(FP), DI
	VXORPS Y15, Y15, Y15
	XORQ BX, BX
	SHRQ $3, CX
	JZ   forwardDone

forwardLoop:
	VMOVUPS (SI)(BX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1
	VANDPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	DECQ CX
	JNZ  forwardLoop

forwardDone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(n int, in, dOut, dIn *float32)
//
// dIn = dOut AND (in > 0), eight values at a time.
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ in+8(FP), SI
	MOVQ dOut+16(FP), DX
	MOVQ dIn+24(FP), DI
	VXORPS Y15, Y15, Y15
	XORQ BX, BX
	SHRQ $3, CX
	JZ   backwardDone

backwardLoop:
	VMOVUPS (SI)(BX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1
	VANDPS  (DX)(BX*4), Y1, Y1
	VMOVUPS Y1, (DI)(BX*4)
	ADDQ $8, BX
	DECQ CX
	JNZ  backwardLoop

backwardDone:
	VZEROUPPER
	RET
