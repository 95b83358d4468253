# RV64I: arithmetic, shifts (amounts masked to 6 bits), comparisons, W forms with sign extension,
# LUI/AUIPC, loads with sign and zero extension, stores of each width, branches and jumps.
main:
    addi sp, sp, -16
    sd ra, 8(sp)
    li s0, 0x7fffffffffffffff
    li s1, -5
    la a0, l_add;  add a1, s0, s0;  call show
    la a0, l_sub;  sub a1, s1, s0;  call show
    la a0, l_sll;  li t4, 65; sll a1, s1, t4; call show
    la a0, l_srl;  li t4, 127; srl a1, s1, t4; call show
    la a0, l_sra;  li t4, 66; sra a1, s1, t4; call show
    la a0, l_slt;  slt a1, s1, s0; call show
    la a0, l_sltu; sltu a1, s1, s0; call show
    la a0, l_xor;  xori a1, s1, -1; call show
    la a0, l_addw; li t4, 0x7fffffff; addiw a1, t4, 1; call show
    la a0, l_subw; li t4, 0x80000000; li t5, 1; subw a1, t4, t5; call show
    la a0, l_sllw; li t4, 1; li t5, 63; sllw a1, t4, t5; call show
    la a0, l_srlw; li t4, -1; srliw a1, t4, 4; call show
    la a0, l_sraw; li t4, 0x80000000; sraiw a1, t4, 31; call show
    la a0, l_lui;  lui a1, 0x80000; call show
    la a0, l_slti; slti a1, s1, -4; call show
    la t4, data
    la a0, l_lb;   lb a1, 0(t4); call show
    la a0, l_lbu;  lbu a1, 0(t4); call show
    la a0, l_lh;   lh a1, 2(t4); call show
    la a0, l_lhu;  lhu a1, 2(t4); call show
    la a0, l_lw;   lw a1, 4(t4); call show
    la a0, l_lwu;  lwu a1, 4(t4); call show
    la a0, l_ld;   ld a1, 8(t4); call show
    la t4, scratch
    li t5, 0x1122334455667788
    sd t5, 0(t4)
    sb zero, 1(t4)
    sh s1, 2(t4)
    sw s1, 8(t4)
    la a0, l_sd;   ld a1, 0(t4); call show
    la a0, l_sw;   ld a1, 8(t4); call show
    li s2, 0
    li t4, 10
1:  addi s2, s2, 3
    addi t4, t4, -1
    bnez t4, 1b
    la a0, l_loop; mv a1, s2; call show
    la t4, 2f
    jalr t5, 0(t4)
    li s2, 111
2:  la a0, l_jalr; mv a1, s2; call show
    li a0, 0
    ld ra, 8(sp)
    addi sp, sp, 16
    ret
    .section .rodata
l_add: .asciz "add"
l_sub: .asciz "sub"
l_sll: .asciz "sll"
l_srl: .asciz "srl"
l_sra: .asciz "sra"
l_slt: .asciz "slt"
l_sltu: .asciz "sltu"
l_xor: .asciz "xori"
l_addw: .asciz "addiw"
l_subw: .asciz "subw"
l_sllw: .asciz "sllw"
l_srlw: .asciz "srliw"
l_sraw: .asciz "sraiw"
l_lui: .asciz "lui"
l_slti: .asciz "slti"
l_lb: .asciz "lb"
l_lbu: .asciz "lbu"
l_lh: .asciz "lh"
l_lhu: .asciz "lhu"
l_lw: .asciz "lw"
l_lwu: .asciz "lwu"
l_ld: .asciz "ld"
l_sd: .asciz "sd+sb+sh"
l_sw: .asciz "sw"
l_loop: .asciz "loop"
l_jalr: .asciz "jalr"
    .data
    .align 3
data: .byte 0x80, 0x7f
      .half 0x8001
      .word 0x80000001
      .dword 0xfedcba9876543210
scratch: .zero 16
