namespace VirtApi.Assembler.Tests;

public sealed class ErrorTests
{
    private static IReadOnlyList<AssemblerError> Errors(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.False(result.Succeeded);
        Assert.Empty(result.Elf);
        return result.Errors;
    }

    [Fact]
    public void UnknownMnemonic_IsReportedAtItsLineAndColumn()
    {
        var error = Assert.Single(Errors("_start:\n    nop\n    frobnicate a0, a1\n"));
        Assert.Equal((3, 5), (error.Line, error.Column));
        Assert.Contains("unknown instruction 'frobnicate'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadRegister_NamesTheOperand()
    {
        var error = Assert.Single(Errors("    add a0, a1, q7\n"));
        Assert.Equal((1, 17), (error.Line, error.Column));
        Assert.Contains("'q7' is not a register", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    addi a0, a0, 2048", "immediate 2048 out of range [-2048, 2047]")]
    [InlineData("    slli a0, a0, 64", "shift amount 64 out of range [0, 63]")]
    [InlineData("    csrrwi a0, mstatus, 32", "immediate 32 out of range [0, 31]")]
    [InlineData("    lui a0, 0x100000", "immediate 1048576 out of range [0, 1048575]")]
    [InlineData("    .byte 256", "value 256 does not fit in 1 byte(s) [-128, 255]")]
    public void ImmediateOutOfRange_NamesTheRange(string line, string message)
    {
        Assert.Contains(Errors(line + "\n"), e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void UndefinedSymbol_IsNamed()
    {
        var error = Assert.Single(Errors("_start:\n    j nowhere\n"));
        Assert.Equal(2, error.Line);
        Assert.Contains("undefined symbol 'nowhere'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateLabel_NamesTheFirstDefinition()
    {
        var error = Assert.Single(Errors("here:\n    nop\nhere:\n    nop\n"));
        Assert.Equal(3, error.Line);
        Assert.Contains("label 'here' is already defined (line 1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MisalignedBranchTarget_IsAnError()
    {
        var error = Assert.Single(Errors("_start:\n    beq a0, a1, _start + 1\n"));
        Assert.Contains("misaligned", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BranchTargetOutOfRange_IsAnError()
    {
        Assert.Contains(Errors("_start:\n    beq a0, a1, far\n    .zero 8192\nfar:\n    nop\n"), e => e.Message.Contains("out of range", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("    .align 99", "alignment 2^99 is out of range")]
    [InlineData("    .balign 3", "must be a power of two")]
    [InlineData("    .asciz hello", "needs a string in double quotes")]
    [InlineData("    .frobnicate 1", "unknown directive '.frobnicate'")]
    [InlineData("    .section .weird", "unknown section '.weird'")]
    [InlineData("    .option fast", ".option takes one of")]
    public void BadDirectiveArgument_IsAnError(string line, string message)
    {
        Assert.Contains(Errors(line + "\n"), e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryErrorIsReportedAtOnce_InLineOrder()
    {
        var errors = Errors("    frob\n    add a0, a1\n    addi a0, a0, 5000\n    j missing\n");
        Assert.Equal([1, 2, 3, 4], errors.Select(e => e.Line).ToArray());
    }

    [Fact]
    public void OversizedSource_IsRefusedWithAClearError()
    {
        var result = RiscVAssembler.Assemble(new string(' ', 100), new AssemblerOptions { MaxSourceBytes = 10 });
        Assert.Contains("larger than 10 bytes", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizedOutput_IsRefusedWithAClearError()
    {
        var result = RiscVAssembler.Assemble("    .bss\n    .zero 100000\n", new AssemblerOptions { MaxOutputBytes = 1000 });
        Assert.False(result.Succeeded);
    }

    [Fact]
    public void Symbols_IncludeEveryLabel_AndEntryIsStart()
    {
        var result = RiscVAssembler.Assemble("    nop\n_start:\n    nop\n    .data\ntohost: .dword 0\nfromhost: .dword 0\n");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(0x8000_0004UL, result.Entry);
        Assert.Equal(0x8000_1000UL, result.Symbols["tohost"]);
        Assert.Equal(0x8000_1008UL, result.Symbols["fromhost"]);
    }
}
