# Code alignment without rvc, padded as GNU as pads it (tc-riscv.c riscv_handle_align): a zero byte
# for an odd count, a c.nop for 2 bytes short of a 4-byte boundary, then 4-byte nops; an explicit
# fill byte fills; .align no larger than the 4-byte instruction alignment is skipped; and the text
# section's end is padded to its largest alignment. (GNU as would then also place an instruction
# at a misaligned offset after such a skipped .align; we report that as an error instead, see
# ErrorTests.CodeAlignmentNoLargerThanTheInstructionAlignment_DoesNotPad_AsInGnuAs.)
    .text
    .globl _start
_start:
    nop
    .byte 1
    .align 3
    nop
    .byte 1, 2
    .p2align 3
    nop
    .2byte 7
    .balign 16
    nop
    .balign 8, 0xff
    nop
    .align 2
    .balign 4
    .align 5
    nop
    .byte 9
    .balign 2
    .byte 8, 7, 6
    .align 3
    nop
    .align 4
    ret
    .data
    .byte 1
    .align 3
    .byte 2
