namespace VirtApi.Machine.Devices.Virtio;

/// <summary>The bits of the device status field (virtio 1.2 §2.1), as the Status register shows them.</summary>
public static class VirtioDeviceStatus
{
    /// <summary>The guest OS has found the device.</summary>
    public const uint Acknowledge = 1;

    /// <summary>The guest OS knows how to drive the device.</summary>
    public const uint Driver = 2;

    /// <summary>The driver is set up and ready to drive the device: the device may use the queues from now on.</summary>
    public const uint DriverOk = 4;

    /// <summary>The driver has acknowledged the features it understands; the device clears it again when it refuses them.</summary>
    public const uint FeaturesOk = 8;

    /// <summary>Set by the device: it has met an error it cannot recover from without a reset.</summary>
    public const uint DeviceNeedsReset = 64;

    /// <summary>The driver has given up on the device.</summary>
    public const uint Failed = 128;

    /// <summary>The bits a driver writes; DEVICE_NEEDS_RESET is the device's own.</summary>
    public const uint DriverBits = Acknowledge | Driver | DriverOk | FeaturesOk | Failed;
}
