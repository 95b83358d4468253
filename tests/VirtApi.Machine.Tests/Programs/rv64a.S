# RV64A: LR/SC success and failure (SC without a reservation, SC after another store to the
# address), and every AMO in W and D widths with the sign extension of W results.
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    la s0, cell
    li t4, 5
    sd t4, 0(s0)
    lr.d t4, (s0)
    li t5, 9
    sc.d s1, t5, (s0)
    la a0, l_sc_ok;    mv a1, s1; call show
    la a0, l_after;    ld a1, 0(s0); call show
    li t5, 10
    sc.d s1, t5, (s0)
    la a0, l_sc_none;  mv a1, s1; call show
    lr.w t4, (s0)
    li t5, 77
    sw t5, 0(s0)
    li t5, 11
    sc.w s1, t5, (s0)
    la a0, l_sc_store; mv a1, s1; call show
    li t4, -2
    sd t4, 0(s0)
    li t5, 3
    amoadd.d a1, t5, (s0);  la a0, l_add_old; call show
    la a0, l_add_new;  ld a1, 0(s0); call show
    li t5, 0x80000000
    sw t5, 8(s0)
    li t5, 1
    addi s2, s0, 8
    amoswap.w a1, t5, (s2); la a0, l_swap_w; call show
    li t5, -1
    amoand.w a1, t5, (s2); la a0, l_and_w; call show
    li t5, 0xf0
    amoor.d a1, t5, (s0);  la a0, l_or_d; call show
    li t5, 0xff
    amoxor.d a1, t5, (s0); la a0, l_xor_d; call show
    li t5, -100
    amomin.d a1, t5, (s0); la a0, l_min_d; call show
    la a0, l_min_new; ld a1, 0(s0); call show
    li t5, 5
    amomax.d a1, t5, (s0); la a0, l_max_d; call show
    la a0, l_max_new; ld a1, 0(s0); call show
    li t5, -1
    amominu.d a1, t5, (s0); la a0, l_minu_d; call show
    amomaxu.d a1, t5, (s0); la a0, l_maxu_d; call show
    la a0, l_maxu_new; ld a1, 0(s0); call show
    li t5, 0x7fffffff
    sw t5, 0(s2)
    li t5, 1
    amoadd.w a1, t5, (s2); la a0, l_add_w; call show
    la a0, l_add_w_new; lw a1, 0(s2); call show
    li t5, -7
    amomin.w a1, t5, (s2); la a0, l_min_w; call show
    amomaxu.w a1, t5, (s2); la a0, l_maxu_w; call show
    li a0, 0
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
    .section .rodata
l_sc_ok: .asciz "sc-with-reservation"
l_after: .asciz "value-after-sc"
l_sc_none: .asciz "sc-without-reservation"
l_sc_store: .asciz "sc-after-store"
l_add_old: .asciz "amoadd.d-old"
l_add_new: .asciz "amoadd.d-new"
l_swap_w: .asciz "amoswap.w-old"
l_and_w: .asciz "amoand.w-old"
l_or_d: .asciz "amoor.d-old"
l_xor_d: .asciz "amoxor.d-old"
l_min_d: .asciz "amomin.d-old"
l_min_new: .asciz "amomin.d-new"
l_max_d: .asciz "amomax.d-old"
l_max_new: .asciz "amomax.d-new"
l_minu_d: .asciz "amominu.d-old"
l_maxu_d: .asciz "amomaxu.d-old"
l_maxu_new: .asciz "amomaxu.d-new"
l_add_w: .asciz "amoadd.w-old"
l_add_w_new: .asciz "amoadd.w-new"
l_min_w: .asciz "amomin.w-old"
l_maxu_w: .asciz "amomaxu.w-old"
    .data
    .align 3
cell: .zero 16
