#include "textflag.h"

// func adamAVX(w, g, m, v []float32, b1, omb1, b2, omb2, step, sc2, eps float32, zero bool)
//
// For the first len(g)/8*8 entries, 8 at a time, the same float32
// operations in the same order as adamUpdate's loop (no fused
// multiply-add; VSQRTPS is correctly rounded like float32(math.Sqrt)):
//
//	m = b1·m + omb1·g
//	v = b2·v + (omb2·g)·g
//	w = w − (step·m) / (sqrt(v)·sc2 + eps)
//	g = 0 (when zero is set)
TEXT ·adamAVX(SB), NOSPLIT, $0-125
	MOVQ w_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ g_len+32(FP), CX
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVBQZX zero+124(FP), DX
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS b1+96(FP), Y8
	VBROADCASTSS omb1+100(FP), Y9
	VBROADCASTSS b2+104(FP), Y10
	VBROADCASTSS omb2+108(FP), Y11
	VBROADCASTSS step+112(FP), Y12
	VBROADCASTSS sc2+116(FP), Y13
	VBROADCASTSS eps+120(FP), Y14
	VXORPS Y15, Y15, Y15

loop:
	VMOVUPS (SI), Y0
	VMOVUPS (R8), Y1
	VMULPS  Y8, Y1, Y1
	VMULPS  Y9, Y0, Y2
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (R8)
	VMOVUPS (R9), Y3
	VMULPS  Y10, Y3, Y3
	VMULPS  Y11, Y0, Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y4, Y3, Y3
	VMOVUPS Y3, (R9)
	VSQRTPS Y3, Y5
	VMULPS  Y13, Y5, Y5
	VADDPS  Y14, Y5, Y5
	VMULPS  Y12, Y1, Y6
	VDIVPS  Y5, Y6, Y6
	VMOVUPS (DI), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	TESTQ   DX, DX
	JZ      keepg
	VMOVUPS Y15, (SI)

keepg:
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET
