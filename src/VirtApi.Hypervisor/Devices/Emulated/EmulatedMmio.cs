using VirtApi.Hypervisor.Statistics;
using VirtApi.Machine.Board;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Hart;

namespace VirtApi.Hypervisor.Devices.Emulated;

/// <summary>
/// Hypervisor-direct device emulation (DESIGN.md "Device virtualization: emulated"): a guest's load
/// or store to a device register is never mapped, so it traps; the VMM decodes the instruction,
/// performs the access on the device model and writes the result back, one exit per access.
/// </summary>
public sealed class EmulatedMmio
{
    private readonly SystemBus _bus;
    private readonly VmmCounters _counters;
    private readonly CostModel _cost;
    private readonly (AddressRange Range, string Name)[] _names;
    private readonly AddressRange[] _passthrough;

    public EmulatedMmio(SystemBus bus, IEnumerable<(AddressRange Range, string Name)> devices, VmmCounters counters, CostModel cost, IEnumerable<AddressRange>? passthrough = null)
    {
        _bus = bus;
        _counters = counters;
        _cost = cost;
        _names = [.. devices];
        _passthrough = [.. passthrough ?? []];
        foreach (var (_, name) in _names)
        {
            // A restored VM's counters already hold its devices' counts; they go on from there.
            counters.Devices.TryAdd(name, new DeviceCounters());
        }
    }

    /// <summary>Whether <paramref name="address"/> lies in a passthrough device's window (mapped, never emulated).</summary>
    public bool IsPassthrough(ulong address)
    {
        foreach (var range in _passthrough)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether a device answers at guest-physical <paramref name="address"/>.</summary>
    public bool IsDevice(ulong address) => _bus.TryFindDevice(address, out _, out _);

    /// <summary>
    /// Emulates <paramref name="instruction"/> (32-bit form) as an access to the device register at
    /// guest-physical <paramref name="address"/>. Returns false when the instruction is not a load or
    /// store the device accepts: the guest then takes an access fault, as on the bare machine.
    /// </summary>
    public bool TryAccess(Hart hart, uint instruction, ulong address)
    {
        var opcode = instruction & 0x7f;
        var funct3 = (instruction >> 12) & 7;
        var rd = (int)((instruction >> 7) & 0x1f);
        var rs2 = (int)((instruction >> 20) & 0x1f);
        bool done;
        int size;
        if (opcode == 0x03 && funct3 != 7) // LOAD: lb lh lw ld lbu lhu lwu
        {
            size = 1 << (int)(funct3 & 3);
            done = Read(address, size, out var value);
            if (done)
            {
                hart[rd] = funct3 switch
                {
                    0 => (ulong)(long)(sbyte)value,
                    1 => (ulong)(long)(short)value,
                    2 => (ulong)(long)(int)value,
                    _ => value,
                };
            }
        }
        else if (opcode == 0x23 && funct3 <= 3) // STORE: sb sh sw sd
        {
            size = 1 << (int)funct3;
            done = Write(address, size, hart[rs2]);
        }
        else if (opcode == 0x2f && (instruction >> 27) == 0x03) // SC to a device: no reservation can hold there, so it fails (rd = 1), as on the bare machine
        {
            hart[rd] = 1;
            return true;
        }
        else
        {
            return false; // LR and AMOs to devices are access faults on this board
        }
        Count(address, size);
        return done;
    }

    // The VMM performs the access on the device model itself: a VM device's window on the bus counts
    // accesses that come straight from a hart, and this one does not.
    private bool Read(ulong address, int size, out ulong value)
    {
        value = 0;
        return _bus.TryFindDevice(address, out var range, out var device) && range.Contains(address, size)
            && Model(device!).Read(address - range.Start, size, out value);
    }

    private bool Write(ulong address, int size, ulong value) =>
        _bus.TryFindDevice(address, out var range, out var device) && range.Contains(address, size)
            && Model(device!).Write(address - range.Start, size, value);

    private static IMmioDevice Model(IMmioDevice device) => device is AttachedDevice attached ? attached.Device : device;

    private void Count(ulong address, int size)
    {
        _counters.VmmCycles += _cost.DeviceExit;
        foreach (var (range, name) in _names)
        {
            if (range.Contains(address))
            {
                var device = _counters.Devices[name];
                device.Exits++;
                device.Bytes += (ulong)size;
                return;
            }
        }
    }
}
