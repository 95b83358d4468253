# RV64M: products (high halves signed, unsigned, mixed), division and remainder including the
# spec's results for division by zero and signed overflow, and the W forms.
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    li s0, 0x8000000000000000
    li s1, -1
    li s2, 7
    li s3, -3
    la a0, l_mul;    mul a1, s2, s3; call show
    la a0, l_mulh;   mulh a1, s0, s0; call show
    la a0, l_mulhu;  mulhu a1, s1, s1; call show
    la a0, l_mulhsu; mulhsu a1, s3, s1; call show
    la a0, l_div;    div a1, s2, s3; call show
    la a0, l_divu;   divu a1, s2, s3; call show
    la a0, l_rem;    rem a1, s2, s3; call show
    la a0, l_remu;   remu a1, s3, s2; call show
    la a0, l_div0;   div a1, s2, zero; call show
    la a0, l_divu0;  divu a1, s2, zero; call show
    la a0, l_rem0;   rem a1, s3, zero; call show
    la a0, l_divov;  div a1, s0, s1; call show
    la a0, l_remov;  rem a1, s0, s1; call show
    li s4, 0x80000000
    la a0, l_mulw;   li t4, 0x10000; mulw a1, t4, t4; call show
    la a0, l_divw;   divw a1, s4, s1; call show
    la a0, l_remw;   remw a1, s4, s1; call show
    la a0, l_divuw;  divuw a1, s1, s2; call show
    la a0, l_remuw;  remuw a1, s1, s2; call show
    la a0, l_divw0;  divw a1, s3, zero; call show
    la a0, l_remuw0; remuw a1, s3, zero; call show
    li a0, 0
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
    .section .rodata
l_mul: .asciz "mul"
l_mulh: .asciz "mulh"
l_mulhu: .asciz "mulhu"
l_mulhsu: .asciz "mulhsu"
l_div: .asciz "div"
l_divu: .asciz "divu"
l_rem: .asciz "rem"
l_remu: .asciz "remu"
l_div0: .asciz "div/0"
l_divu0: .asciz "divu/0"
l_rem0: .asciz "rem/0"
l_divov: .asciz "div-overflow"
l_remov: .asciz "rem-overflow"
l_mulw: .asciz "mulw"
l_divw: .asciz "divw-overflow"
l_remw: .asciz "remw-overflow"
l_divuw: .asciz "divuw"
l_remuw: .asciz "remuw"
l_divw0: .asciz "divw/0"
l_remuw0: .asciz "remuw/0"
