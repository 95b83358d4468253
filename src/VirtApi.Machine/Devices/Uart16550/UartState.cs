using System.Collections.Immutable;

namespace VirtApi.Machine.Devices;

/// <summary>
/// The saved <see cref="Uart16550"/>: its registers, the bytes waiting in the receive FIFO (input the
/// guest has not read yet belongs to the machine) and a THR-empty interrupt not yet acknowledged.
/// Transmission is instant, so nothing is ever waiting to go out.
/// </summary>
public sealed record UartState
{
    public required byte Ier { get; init; }

    public required byte Lcr { get; init; }

    public required byte Mcr { get; init; }

    public required byte Scr { get; init; }

    public required byte Fcr { get; init; }

    /// <summary>Divisor latch, low byte.</summary>
    public required byte Dll { get; init; }

    /// <summary>Divisor latch, high byte.</summary>
    public required byte Dlm { get; init; }

    /// <summary>The receive FIFO, oldest byte first.</summary>
    public required ImmutableArray<byte> ReceiveFifo { get; init; }

    /// <summary>A THR-empty interrupt raised and not yet cleared by reading IIR.</summary>
    public required bool ThrEmptyPending { get; init; }
}

/// <summary>
/// What a restored <see cref="Uart16550"/> is given: its interrupt line (a PLIC source, already
/// restored) and where its output goes (a host binding, set later through <see cref="Uart16550.Sink"/> if null).
/// </summary>
public sealed record UartArgs(IInterruptLine Irq, ISerialSink? Sink = null);
