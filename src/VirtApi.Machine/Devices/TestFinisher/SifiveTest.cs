using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices;

/// <summary>The board's power switch, as the test finisher and HTIF use it.</summary>
public interface IPowerControl
{
    void PowerOff(int exitCode);

    void Reset();
}

/// <summary>
/// The sifive_test finisher at 0x0010_0000 (QEMU hw/misc/sifive_test.c): writing 0x5555 powers off
/// with success, (code &lt;&lt; 16) | 0x3333 powers off with failure code <c>code</c>, 0x7777 resets.
/// </summary>
public sealed class SifiveTest(IPowerControl power) : IMmioDevice
{
    public const ulong Size = 0x1000;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        return size == 4 && offset == 0;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 4 || offset != 0)
        {
            return false;
        }
        switch (value & 0xffff)
        {
            case 0x5555: power.PowerOff(0); break;
            case 0x3333: power.PowerOff((int)((value >> 16) & 0xffff)); break;
            case 0x7777: power.Reset(); break;
        }
        return true;
    }
}
