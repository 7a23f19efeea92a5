// jest.mock factory for socket.io-client: io() returns a FakeSocket.
import { FakeSocket, sockets } from "./fakeSocket";

export function ioMock() {
  return {
    io: jest.fn((url: string, options: Record<string, unknown>) => {
      const socket = new FakeSocket(url, options);
      sockets.push(socket);
      return socket;
    }),
  };
}
