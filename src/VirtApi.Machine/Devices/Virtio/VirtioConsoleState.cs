using System.Collections.Immutable;

namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// The saved <see cref="VirtioConsole"/>: input from outside that the driver has not received yet (it
/// belongs to the machine, as the UART's FIFO does). Transmission is instant, so nothing waits to go out.
/// </summary>
public sealed record VirtioConsoleState
{
    /// <summary>Undelivered input, oldest byte first.</summary>
    public required ImmutableArray<byte> PendingInput { get; init; }
}

/// <summary>What a restored <see cref="VirtioConsole"/> is given: where its output goes (a host binding, settable later through <see cref="VirtioConsole.Sink"/>).</summary>
public sealed record VirtioConsoleArgs(ISerialSink? Sink = null);
